/**
 * A service that never answers: the visitor gets 504 after
 * `server.upstream_timeout` seconds, with the reason, and other requests to
 * the same tunnel are not held up meanwhile. Real relay, ssh and origin.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";

describe("a service that never answers", () => {
  let origin: Server;
  let relay: Relay;
  let client: Client;
  const host = () => `slow.${DOMAIN}`;

  before(async () => {
    // /hang is never answered; everything else at once.
    origin = createServer((req, res) => void (req.url === "/hang" ? undefined : res.end("fine")));
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    relay = await startRelay({ config: { upstream_timeout: 1 } });
    client = await registerClient(relay, { name: "slow", target: `127.0.0.1:${(origin.address() as { port: number }).port}` });
    await client.up();
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    origin?.closeAllConnections();
    origin?.close();
  });

  test("gets 504 after server.upstream_timeout with the reason, while other requests to the tunnel are answered at once", async () => {
    const started = Date.now();
    const hung = viaProxy(relay, host(), "/hang");
    const meanwhile = await viaProxy(relay, host(), "/other");
    const meanwhileMs = Date.now() - started;
    const res = await hung;
    const waited = Date.now() - started;
    assert.equal(meanwhile.status, 200);
    assert.ok(meanwhileMs < 900, `another request took ${meanwhileMs} ms`);
    assert.equal(res.status, 504);
    assert.equal(res.text, `petit: tunnel ${client.id} is connected, but the service behind it sent no answer within 1 s (server.upstream_timeout)\n`);
    assert.ok(waited >= 900 && waited < 4_000, `504 after ${waited} ms`);
    assert.equal((await viaProxy(relay, host(), "/after")).status, 200);
  });
});
