/**
 * Behind a load balancer (`server.trusted_proxies`), every source-based
 * decision is about the visitor X-Forwarded-For names, never the balancer:
 * the failed-access lockout, relay- and client-level allow_from, X-Real-IP
 * and the access log. Real relay, real client, real origin; the balancer is
 * 127.0.0.1 and an untrusted peer is 127.0.0.2.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startBoundaryOrigin, type BoundaryOrigin } from "../helpers/boundary-origin.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { petit } from "../helpers/petit.ts";
import { RawConnection, requestHead } from "../helpers/raw-http.ts";
import { registrationHeaders, signingKeyLine } from "../helpers/signing-keys.ts";
import { request } from "undici";

const HOST = `site.${DOMAIN}`;
const ATTACKER = "203.0.113.7";
const VISITOR = "198.51.100.9";

describe("the visitor's address behind a trusted load balancer", () => {
  let origin: BoundaryOrigin;
  let relay: Relay;
  let client: Client;
  before(async () => {
    origin = await startBoundaryOrigin();
    relay = await startRelay({
      config: { trusted_proxies: ["127.0.0.1/32"], allow_from: ["198.51.100.0/24", "203.0.113.0/24"], access_log: "access.log" },
    });
    client = await registerClient(relay, { name: "site", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });
  /** A request the balancer passes on for `visitor` (X-Forwarded-For as the balancer writes it). */
  const via = (forwardedFor: string, token = client.accessToken, path = "/") =>
    viaProxy(relay, HOST, path, { auth: false, headers: { "x-forwarded-for": forwardedFor, "x-petit-token": token } });

  test("30 wrong tokens from one visitor lock out that visitor only, not everyone behind the balancer", async () => {
    for (let i = 1; i <= 30; i++) assert.equal((await via(ATTACKER, `wrong-${i}`)).status, 407, `attempt ${i}`);
    const locked = await via(ATTACKER);
    assert.equal(locked.status, 429);
    assert.equal(locked.text, "petit: too many failed access attempts from this address; wait and retry\n");
    const other = await via(VISITOR);
    assert.equal(other.status, 200, other.text);
  });

  test("the visitor is the right-most untrusted address: a forged left-most entry changes nothing", async () => {
    const forged = await via(`${VISITOR}, ${ATTACKER}`);
    assert.equal(forged.status, 429, "the locked-out attacker stays locked out whatever it writes on the left");
    const behindTwo = await via(`${ATTACKER}, ${VISITOR}, 127.0.0.1`, client.accessToken, "/two");
    assert.equal(behindTwo.status, 200, behindTwo.text);
    assert.equal(origin.seen.findLast((r) => r.url === "/two")!.headers["x-real-ip"], VISITOR);
  });

  test("the relay's allow_from sees the visitor: an address outside it gets 403 naming that address", async () => {
    const res = await via("192.0.2.1");
    assert.equal(res.status, 403);
    assert.equal(res.text, "petit: source address 192.0.2.1 is not allowed to use this tunnel\n");
  });

  test("a client's --allow-from sees the visitor, not the balancer", async () => {
    const access = (...args: string[]) => petit(relay.home, ["server", "access", "site", ...args]);
    assert.equal((await access("--allow-from", "198.51.100.0/24")).exitCode, 0);
    try {
      assert.equal((await via(VISITOR)).status, 200);
      const refused = await via("203.0.113.99");
      assert.equal(refused.status, 403);
      assert.equal(refused.text, "petit: source address 203.0.113.99 is not allowed to use this tunnel\n");
    } finally {
      await access("--allow-from", "");
    }
  });

  test("the access log and X-Real-IP name the visitor", async () => {
    assert.equal((await via(VISITOR, client.accessToken, "/logged")).status, 200);
    assert.equal(origin.seen.findLast((r) => r.url === "/logged")!.headers["x-real-ip"], VISITOR);
    const file = join(relay.home, "server/access.log");
    await waitFor(() => readFileSync(file, "utf8").includes('"path":"/logged"'), 10_000, "the access log line");
    const line = readFileSync(file, "utf8").split("\n").find((l) => l.includes('"path":"/logged"'))!;
    assert.equal(JSON.parse(line).remote, VISITOR);
  });

  test("X-Forwarded-For from a peer that is not a trusted proxy is not believed", async () => {
    const conn = await RawConnection.open(relay.httpPort, 5_000, "127.0.0.2");
    try {
      conn.write(requestHead("GET / HTTP/1.1", [`Host: ${HOST}`, `X-Petit-Token: ${client.accessToken}`, `X-Forwarded-For: ${VISITOR}`, "Connection: close"]));
      const res = await conn.readResponse();
      assert.equal(res.status, 403);
      assert.equal(res.text, "petit: source address 127.0.0.2 is not allowed to use this tunnel\n");
    } finally {
      conn.close();
    }
  });

  test("60 wrong enrollment proofs from one client behind the balancer lock out that client, not the next one at the API", async () => {
    const register = async (forwardedFor: string, token: string) => {
      const body = JSON.stringify({ public_key: signingKeyLine() });
      const res = await request(`${relay.apiUrl}/v1/register`, {
        method: "POST", body, headers: { ...registrationHeaders(token, body), "x-forwarded-for": forwardedFor },
      });
      await res.body.dump();
      return res.statusCode;
    };
    for (let i = 0; i < 60; i++) assert.equal(await register("198.51.100.9", "not-the-token"), 401, `attempt ${i + 1}`);
    assert.equal(await register("198.51.100.9", relay.token), 429, "the client who failed 60 times was not stopped");
    assert.equal(await register("198.51.100.10", relay.token), 201, "another client behind the same balancer was locked out");
  });
});
