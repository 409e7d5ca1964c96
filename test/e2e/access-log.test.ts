/**
 * The proxy's access log (`server.access_log`): one JSON line per answered
 * request, refusals included, in a 0600 file. Real relay, ssh and origin.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { AccessEntry } from "../../lib/server/proxy/access-log.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";

describe("the proxy's access log", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let file: string;
  const entries = (): AccessEntry[] => existsSync(file)
    ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as AccessEntry)
    : [];

  before(async () => {
    origin = await startOrigin("access-log-origin");
    relay = await startRelay({ config: { access_log: "access.log" } });
    client = await registerClient(relay, { name: "logged", target: `127.0.0.1:${origin.port}` });
    await client.up();
    file = join(relay.home, "server/access.log");
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("every answered request gets one JSON line: source, host, method, path, status, time taken and user agent", async () => {
    const before = entries().length;
    const sent = Date.now();
    assert.equal((await viaProxy(relay, `logged.${DOMAIN}`, "/orders?id=7", { headers: { "user-agent": "erp-sync/2.1" } })).status, 200);
    assert.equal((await viaProxy(relay, `logged.${DOMAIN}`, "/x", { auth: false })).status, 407);
    assert.equal((await viaProxy(relay, `nobody.${DOMAIN}`, "/")).status, 404);
    assert.equal((await viaProxy(relay, `logged.${DOMAIN}`, "/upload", { method: "POST", body: "abc" })).status, 200);
    await waitFor(() => entries().length >= before + 4, 5_000, "four new lines in the access log");
    const [ok, refused, unknown, posted] = entries().slice(before);
    assert.deepEqual({ ...ok, time: undefined, ms: undefined }, {
      time: undefined, ms: undefined, remote: "127.0.0.1", host: `logged.${DOMAIN}`, method: "GET", path: "/orders?id=7", status: 200, user_agent: "erp-sync/2.1",
    });
    assert.ok(Date.parse(ok.time) >= sent - 1_000 && ok.ms >= 0 && ok.ms < 10_000, JSON.stringify(ok));
    assert.deepEqual([refused.status, refused.path], [407, "/x"]);
    assert.deepEqual([unknown.status, unknown.host], [404, `nobody.${DOMAIN}`]);
    assert.deepEqual([posted.method, posted.status], ["POST", 200]);
  });

  test("the access log is readable by its owner only", () => {
    assert.equal((statSync(file).mode & 0o777).toString(8), "600");
  });
});
