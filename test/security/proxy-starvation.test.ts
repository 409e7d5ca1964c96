/**
 * One visitor cannot starve a tunnel: 130 uploads from one address that
 * each send one byte of a 1 MB body neither keep another visitor from an
 * answer (per-source share of the tunnel's connections) nor hold on for
 * long (`server.body_timeout` cuts them with 408). Real relay, real client,
 * real origin; the two visitors are 127.0.0.2 and 127.0.0.3.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Agent, request } from "undici";
import { startOrigin } from "../helpers/origin.ts";
import { DOMAIN, registerClient, startRelay, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { RawConnection, requestHead } from "../helpers/raw-http.ts";

const HOST = `site.${DOMAIN}`;
const UPLOADS = 130;
/** Seconds a body may stall: longer than the prompt answer needs, short enough for a test. */
const BODY_TIMEOUT = 8;

describe("a slow uploader and another visitor", () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let relay: Relay;
  let client: Client;
  let uploadsSeen = 0;
  const uploads: RawConnection[] = [];
  before(async () => {
    origin = await startOrigin("site-origin");
    origin.server.on("request", (req) => { if (req.url === "/upload") uploadsSeen++; });
    relay = await startRelay({ config: { body_timeout: BODY_TIMEOUT } });
    client = await registerClient(relay, { name: "site", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });
  after(async () => {
    for (const conn of uploads) conn.close();
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("another visitor is answered promptly while one address holds 130 stalled uploads, and the stalled ones are cut with 408", async (t) => {
    const started = Date.now();
    for (let i = 0; i < UPLOADS; i++) {
      const conn = await RawConnection.open(relay.httpPort, 5_000, "127.0.0.2");
      uploads.push(conn);
      conn.write(requestHead("POST /upload HTTP/1.1", [`Host: ${HOST}`, `X-Petit-Token: ${client.accessToken}`, "Content-Length: 1048576"]) + "x");
    }
    // The uploads have taken what they can once the origin sees no new one for a while.
    let last = -1;
    let lastChange = Date.now();
    await waitFor(() => {
      if (uploadsSeen !== last) [last, lastChange] = [uploadsSeen, Date.now()];
      return uploadsSeen > 0 && Date.now() - lastChange > 1_000;
    }, 30_000, "the uploads to reach the origin");
    assert.ok(Date.now() - started < BODY_TIMEOUT * 1000, "the uploads must still be stalled, not cut yet");

    const agent = new Agent({ connect: { localAddress: "127.0.0.3" } });
    try {
      const asked = Date.now();
      const res = await request(`http://127.0.0.1:${relay.httpPort}/other`, {
        dispatcher: agent, headers: { host: HOST, "x-petit-token": client.accessToken }, headersTimeout: 15_000,
      });
      const waited = Date.now() - asked;
      assert.equal(res.statusCode, 200);
      assert.equal((await res.body.json() as { url: string }).url, "/other");
      t.diagnostic(`another visitor waited ${waited} ms; ${uploadsSeen} of ${UPLOADS} uploads reached the origin`);
      assert.ok(waited < 3_000, `another visitor waited ${waited} ms`);
    } finally {
      await agent.close();
    }

    // The first uploads' bodies sent one byte, then nothing: each is cut with 408 and its connection closed.
    const cut = await Promise.all(uploads.slice(0, 8).map(async (conn) => {
      const head = await conn.readHead((BODY_TIMEOUT + 20) * 1000);
      await conn.closed(10_000);
      return head.status;
    }));
    assert.deepEqual(cut, Array(8).fill(408));
    t.diagnostic(`the first stalled uploads were cut ${((Date.now() - started) / 1000).toFixed(1)} s after they began`);
  });
});
