/**
 * Where a visitor's request stops being the visitor's: a refused Upgrade
 * that must not become a raw pipe, headers that name the visitor, headers a
 * service's Connection names, and absolute-form targets that must route and
 * reach the service as one host. Real relay, real client, real origin.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startBoundaryOrigin, type BoundaryOrigin } from "../helpers/boundary-origin.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { RawConnection, rawRequest, requestHead } from "../helpers/raw-http.ts";

const HOST = `site.${DOMAIN}`;

describe("proxy boundaries", () => {
  let origin: BoundaryOrigin;
  let relay: Relay;
  let client: Client;
  before(async () => {
    origin = await startBoundaryOrigin();
    relay = await startRelay();
    client = await registerClient(relay, { name: "site", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });
  const token = () => `X-Petit-Token: ${client.accessToken}`;
  const lastSeen = (url: string) => origin.seen.findLast((r) => r.url === url);

  test("after a non-101 answer to an Upgrade, a pipelined request never reaches the service unparsed and the connection closes", async () => {
    const conn = await RawConnection.open(relay.httpPort);
    try {
      conn.write(requestHead("GET /ws HTTP/1.1", [`Host: ${HOST}`, "Upgrade: websocket", "Connection: Upgrade", token()]) +
        requestHead("GET /smuggled HTTP/1.1", [`Host: ${HOST}`, "X-Forwarded-For: 6.6.6.6", token()]));
      const res = await conn.readResponse();
      assert.equal(res.status, 426);
      assert.equal(res.text, "nope\n");
      assert.equal(res.headers.connection, "close");
      await conn.closed();
    } finally {
      conn.close();
    }
    // A request on a fresh connection has made the round trip: anything smuggled would have arrived before it.
    assert.equal((await viaProxy(relay, HOST, "/after")).status, 200);
    assert.equal(Buffer.concat(origin.afterRefusedUpgrade).toString("latin1"), "");
    assert.equal(lastSeen("/smuggled"), undefined);
  });

  test("Forwarded and X-Real-IP from a visitor never reach the service; X-Real-IP is the relay's own", async () => {
    const res = await viaProxy(relay, HOST, "/who", {
      headers: { forwarded: "for=6.6.6.6;proto=https", "x-real-ip": "6.6.6.6", "x-forwarded-for": "6.6.6.6" },
    });
    assert.equal(res.status, 200);
    const seen = lastSeen("/who")!;
    assert.equal(seen.headers.forwarded, undefined);
    assert.equal(seen.headers["x-real-ip"], "127.0.0.1");
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
  });

  test("a response header the service's Connection header names is dropped, like Connection itself", async () => {
    const res = await viaProxy(relay, HOST, "/hop");
    assert.equal(res.status, 200);
    assert.equal(res.text, "ok\n");
    assert.equal(res.headers["x-secret"], undefined);
    assert.notEqual(res.headers.connection, "x-secret");
    assert.equal(res.headers["x-public"], "fine");
  });

  test("an absolute-form target routes by its own authority and reaches the service in origin-form with that Host", async () => {
    const res = await rawRequest(relay.httpPort, requestHead(`GET http://${HOST}/abs?q=1 HTTP/1.1`, [
      `Host: other.${DOMAIN}`, token(), "Connection: close",
    ]));
    assert.equal(res.status, 200, res.text);
    const seen = lastSeen("/abs?q=1");
    assert.ok(seen, `the service saw ${JSON.stringify(origin.seen.map((r) => r.url))}`);
    assert.equal(seen.headers.host, HOST);
    assert.equal(seen.headers["x-forwarded-host"], HOST);
  });

  test("an absolute-form target naming another host is not sent to the tunnel its Host header names", async () => {
    const before = origin.seen.length;
    const res = await rawRequest(relay.httpPort, requestHead("GET http://evil.example/x HTTP/1.1", [`Host: ${HOST}`, token(), "Connection: close"]));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'petit: no tunnel for host "evil.example" on this relay\n');
    assert.equal(origin.seen.length, before, "the service must not see it");
  });

  test("an absolute-form target with an empty path reaches the service as \"/\", and one with user information or another scheme gets 400", async () => {
    const plain = await rawRequest(relay.httpPort, requestHead(`GET http://${HOST.toUpperCase()} HTTP/1.1`, [`Host: ${HOST}`, token(), "Connection: close"]));
    assert.equal(plain.status, 200, plain.text);
    assert.equal(JSON.parse(plain.text).url, "/");
    const before = origin.seen.length;
    for (const target of [`http://user@${HOST}/x`, `ftp://${HOST}/x`]) {
      const res = await rawRequest(relay.httpPort, requestHead(`GET ${target} HTTP/1.1`, [`Host: ${HOST}`, token(), "Connection: close"]));
      assert.equal(res.status, 400, target);
      assert.match(res.text, /^petit: /);
    }
    assert.equal(origin.seen.length, before, "the service must not see them");
  });
});
