/**
 * Several services per client: [[client.tunnel]] entries, each with its own
 * name and relay port, all carried by the one ssh connection.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { startOrigin } from "../helpers/origin.ts";
import { petitOk } from "../helpers/petit.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";

describe("several services per client", () => {
  let relay: Relay;
  let origins: Awaited<ReturnType<typeof startOrigin>>[];
  let client: Client;

  before(async () => {
    origins = await Promise.all(["main-svc", "api-svc", "admin-svc"].map((name) => startOrigin(name)));
    relay = await startRelay();
    client = await registerClient(relay, { name: "office", target: `127.0.0.1:${origins[0].port}` });
    // Register again with two further services, as a user adds them later.
    await petitOk(client.home, [
      "register", relay.apiUrl, "--token", relay.token,
      "--tunnel", `erp-api=127.0.0.1:${origins[1].port}`, "--tunnel", `erp-admin=127.0.0.1:${origins[2].port}`,
    ]);
    await client.up();
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    for (const origin of origins ?? []) await origin.close();
  });

  /** GET through the proxy with the client's token (the fixture only knows its ID and name). */
  const get = (label: string) => viaProxy(relay, `${label}.${DOMAIN}`, "/", { headers: { "x-petit-token": client.accessToken } });

  test("each tunnel name reaches its own service and the client name the main one", async () => {
    assert.equal(JSON.parse((await get("office")).text).name, "main-svc");
    assert.equal(JSON.parse((await get("erp-api")).text).name, "api-svc");
    assert.equal(JSON.parse((await get("erp-admin")).text).name, "admin-svc");
  });

  test("the tunnels keep the client's ID and port, get distinct ports, and are written to config.toml", () => {
    const config = parse(readFileSync(join(client.home, "config.toml"), "utf8")).client as {
      id: number; port: number; tunnel: { name: string; port: number; target: string }[];
    };
    assert.equal(config.id, client.id);
    assert.equal(config.port, client.port);
    assert.deepEqual(config.tunnel.map((t) => t.name), ["erp-api", "erp-admin"]);
    const ports = [config.port, ...config.tunnel.map((t) => t.port)];
    assert.equal(new Set(ports).size, 3);
    const line = readFileSync(join(relay.home, "server/authorized_keys"), "utf8").split("\n").find((l) => l.endsWith(`petit-${client.id}`))!;
    for (const port of ports) assert.ok(line.includes(`permitlisten="127.0.0.1:${port}"`), `missing permitlisten for ${port}`);
  });

  test("all services ride on one ssh process", async () => {
    const sshPid = Number(readFileSync(join(client.home, "client/ssh.pid"), "utf8"));
    const argv = readFileSync(`/proc/${sshPid}/cmdline`, "utf8").split("\0");
    assert.equal(argv.filter((a) => a === "-R").length, 3);
  });

  test("registering again without --tunnel keeps the tunnels and their ports", async () => {
    const before = readFileSync(join(client.home, "config.toml"), "utf8");
    await petitOk(client.home, ["register", relay.apiUrl, "--token", relay.token]);
    assert.equal(readFileSync(join(client.home, "config.toml"), "utf8"), before);
  });

  test("a tunnel name taken by another client is refused with 409", async () => {
    const other = await registerClient(relay, { target: `127.0.0.1:${origins[0].port}` }).catch((e) => e as Error);
    assert.ok(!(other instanceof Error));
    try {
      const result = await import("../helpers/petit.ts").then((m) => m.petit(other.home, [
        "register", relay.apiUrl, "--token", relay.token, "--tunnel", `erp-api=127.0.0.1:${origins[1].port}`,
      ]));
      assert.equal(result.exitCode, 1);
      assert.match(String(result.stderr), /\(409\): The name "erp-api" is taken/);
    } finally {
      await other.stop();
    }
  });
});
