/**
 * `server.proxy_protocol`: a trusted load balancer's PROXY header (v1 or
 * v2) names the visitor for every source-based decision; a malformed header
 * closes the connection cleanly; a header from anyone else is not believed.
 * Real relay, real client, real origin; the balancer is 127.0.0.1.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startBoundaryOrigin, type BoundaryOrigin } from "../helpers/boundary-origin.ts";
import { DOMAIN, registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";
import { RawConnection, requestHead, type RawResponse } from "../helpers/raw-http.ts";

const HOST = `site.${DOMAIN}`;
const ATTACKER = "203.0.113.7";
const VISITOR = "198.51.100.9";

/** A version-2 PROXY header for a TCP/IPv4 connection from `source`. */
function v2Header(source: string): Buffer {
  const fixed = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c]);
  return Buffer.concat([fixed, Buffer.from([...source.split(".").map(Number), 127, 0, 0, 1, 0x14, 0x03, 0x00, 0x50])]);
}

describe("PROXY protocol from a trusted load balancer", () => {
  let origin: BoundaryOrigin;
  let relay: Relay;
  let client: Client;
  before(async () => {
    origin = await startBoundaryOrigin();
    relay = await startRelay({ config: { trusted_proxies: ["127.0.0.1/32"], proxy_protocol: true } });
    client = await registerClient(relay, { name: "site", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });
  /** Sends `header` then one request with `token` on a new connection (from `from`) and reads the answer. */
  const send = async (header: string | Buffer, token = client.accessToken, path = "/", from?: string): Promise<RawResponse> => {
    const conn = await RawConnection.open(relay.httpPort, 5_000, from);
    try {
      conn.write(Buffer.concat([Buffer.from(header), Buffer.from(requestHead(`GET ${path} HTTP/1.1`, [`Host: ${HOST}`, `X-Petit-Token: ${token}`, "Connection: close"]))]));
      return await conn.readResponse();
    } finally {
      conn.close();
    }
  };
  const v1 = (source: string) => `PROXY TCP4 ${source} 127.0.0.1 5123 80\r\n`;

  test("a v1 header names the visitor the service sees in X-Real-IP and X-Forwarded-For", async () => {
    const res = await send(v1(VISITOR), client.accessToken, "/v1");
    assert.equal(res.status, 200, res.text);
    const seen = origin.seen.findLast((r) => r.url === "/v1")!;
    assert.equal(seen.headers["x-real-ip"], VISITOR);
    assert.equal(seen.headers["x-forwarded-for"], VISITOR);
  });

  test("a v2 header names the visitor, and the visitor's own X-Forwarded-For is not believed", async () => {
    const conn = await RawConnection.open(relay.httpPort);
    try {
      conn.write(Buffer.concat([v2Header(VISITOR), Buffer.from(requestHead("GET /v2 HTTP/1.1", [
        `Host: ${HOST}`, `X-Petit-Token: ${client.accessToken}`, "X-Forwarded-For: 6.6.6.6", "Connection: close",
      ]))]));
      assert.equal((await conn.readResponse()).status, 200);
    } finally {
      conn.close();
    }
    const seen = origin.seen.findLast((r) => r.url === "/v2")!;
    assert.equal(seen.headers["x-real-ip"], VISITOR);
    assert.equal(seen.headers["x-forwarded-for"], VISITOR);
  });

  test("30 wrong tokens from one visitor lock out that visitor only", async () => {
    for (let i = 1; i <= 30; i++) assert.equal((await send(v1(ATTACKER), `wrong-${i}`)).status, 407, `attempt ${i}`);
    assert.equal((await send(v1(ATTACKER))).status, 429);
    assert.equal((await send(v1(VISITOR))).status, 200);
  });

  test("a malformed, truncated or missing header closes the connection without an answer, and the relay serves on", async () => {
    const bad = ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "PROXY TCP4 999.2.3.4 5.6.7.8 1 2\r\n", `PROXY UNKNOWN ${"x".repeat(200)}\r\n`, "GET / HTTP/1.1\r\n", v2Header(VISITOR).subarray(0, 20)];
    for (const header of bad) {
      const conn = await RawConnection.open(relay.httpPort);
      try {
        conn.write(header);
        // The truncated v2 header waits for the rest: the end of the stream is what tells the relay it never comes.
        if (typeof header !== "string") conn.socket.end();
        assert.equal((await conn.closed(10_000)).length, 0, `${JSON.stringify(header.toString().slice(0, 40))} got an answer`);
      } finally {
        conn.close();
      }
    }
    assert.equal((await send(v1(VISITOR))).status, 200);
  });

  test("a PROXY header from a peer that is not a trusted proxy is not believed: its connection is plain HTTP", async () => {
    const res = await send(v1(VISITOR), client.accessToken, "/", "127.0.0.2");
    assert.equal(res.status, 400);
    assert.match(res.text, /^petit: malformed request/);
  });
});
