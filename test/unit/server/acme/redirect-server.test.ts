/**
 * The plain port under ACME: HTTP-01 tokens answered for any Host, every
 * other request redirected to HTTPS, a bad Host refused.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { request } from "undici";
import { Http01Tokens } from "../../../../lib/server/acme/challenges.ts";
import { createRedirectServer } from "../../../../lib/server/acme/redirect-server.ts";

describe("createRedirectServer()", () => {
  const tokens = new Http01Tokens();
  let server: Server;
  let port: number;
  const get = async (path: string, host: string) => {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headers: { host } });
    return { status: res.statusCode, location: res.headers.location, text: await res.body.text() };
  };
  before(async () => {
    server = createRedirectServer({ tokens, httpsPort: 8443 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("answers a pending HTTP-01 token for any Host, and 404 once it is removed", async () => {
    tokens.add("tok_en-1", "tok_en-1.thumbprint");
    for (const host of ["1001.relay.example.com", "anything.example.org:80"]) {
      assert.deepEqual(await get("/.well-known/acme-challenge/tok_en-1", host), { status: 200, location: undefined, text: "tok_en-1.thumbprint" });
    }
    tokens.remove("tok_en-1");
    assert.equal((await get("/.well-known/acme-challenge/tok_en-1", "relay.example.com")).status, 404);
    assert.equal((await get("/.well-known/acme-challenge/a%2F..%2Fb", "relay.example.com")).status, 404);
  });

  test("redirects every other request to the same host and path on the HTTPS port with 308", async () => {
    const answer = await get("/a/b?c=d", "Shop.Relay.Example.com:80");
    assert.equal(answer.status, 308);
    assert.equal(answer.location, "https://shop.relay.example.com:8443/a/b?c=d");
  });

  test("refuses a Host that is not a DNS name with 400 instead of redirecting to it", async () => {
    for (const host of ["evil.example.com/x", "a b", "[::1]"]) {
      const answer = await get("/", host);
      assert.equal(answer.status, 400, host);
      assert.equal(answer.location, undefined);
    }
  });
});
