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
    await tokens.add("tok_en-1", "tok_en-1.thumbprint");
    for (const host of ["1001.relay.example.com", "anything.example.org:80"]) {
      assert.deepEqual(await get("/.well-known/acme-challenge/tok_en-1", host), { status: 200, location: undefined, text: "tok_en-1.thumbprint" });
    }
    await tokens.remove("tok_en-1");
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

describe("Http01Tokens with a store shared by several relays", () => {
  /** The store: one token another relay placed; lookups of others hang until released, as a store under a flood would. */
  let release = () => {};
  const hanging = new Promise<void>((resolve) => (release = resolve));
  const lookups: string[] = [];
  const shared = {
    put: async () => undefined,
    remove: async () => undefined,
    get: async (token: string) => {
      lookups.push(token);
      if (token === "elsewhere") return "elsewhere.thumbprint";
      await hanging;
      return undefined;
    },
  };
  let server: Server;
  let port: number;
  before(async () => {
    server = createRedirectServer({ tokens: new Http01Tokens(shared), httpsPort: 443 });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const get = async (token: string) => {
    const res = await request(`http://127.0.0.1:${port}/.well-known/acme-challenge/${token}`, { headers: { host: "relay.example.com" } });
    return { status: res.statusCode, text: await res.body.text() };
  };

  test("a token another relay placed is answered from the store", async () => {
    assert.deepEqual(await get("elsewhere"), { status: 200, text: "elsewhere.thumbprint" });
  });

  test("made-up tokens hold at most 4 store lookups at once: beyond, a 404 at once", async () => {
    const before = lookups.length;
    const held = Array.from({ length: 4 }, (_, i) => get(`made-up-${i}`));
    while (lookups.length < before + 4) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await get("one-more")).status, 404);
    assert.equal(lookups.length, before + 4, "the fifth was not looked up");
    release();
    for (const answer of await Promise.all(held)) assert.equal(answer.status, 404);
  });
});
