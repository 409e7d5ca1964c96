/**
 * petit's proxy against nginx, request for request: the same raw bytes sent
 * through each to the same recording origin. For well-formed requests the
 * origin must receive the same method, target, end-to-end fields (in order)
 * and body from both, and the visitor the same status, fields and body back.
 * For malformed ones (smuggling attempts and grammar breaks) petit must
 * refuse every one, so that it is never more lenient than nginx; where
 * nginx lets one through, the test says so.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { DOMAIN, registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";
import { NGINX, startNginx, type Nginx } from "../helpers/nginx.ts";
import { RawConnection, type RawResponse } from "../helpers/raw-http.ts";
import { MALFORMED, WELL_FORMED } from "../helpers/differential-cases.ts";

const HOST = `diff.${DOMAIN}`;
/** What each proxy sets or drops by design: left out of the comparison. */
const PROXY_OWN = new Set(["host", "connection", "keep-alive", "te", "expect", "x-forwarded-for", "x-forwarded-proto",
  "x-forwarded-host", "x-real-ip", "x-petit-token", "content-length", "transfer-encoding"]);
const RESPONSE_OWN = new Set(["date", "server", "connection", "keep-alive", "transfer-encoding", "content-length"]);

interface Seen { method: string; url: string; fields: string[]; body: string }

/** An origin that records every request it gets and answers by path. */
function recordingOrigin(seen: Seen[]): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const fields: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i].toLowerCase();
        if (!PROXY_OWN.has(name)) fields.push(`${name}: ${req.rawHeaders[i + 1]}`);
      }
      seen.push({ method: req.method!, url: req.url!, fields, body: Buffer.concat(chunks).toString("latin1") });
      if (req.url === "/chunked") {
        res.writeHead(200, { "x-origin": "chunked", "set-cookie": ["a=1", "b=2"] });
        res.write("first part, ");
        return res.end("second part");
      }
      if (req.url === "/empty") return res.writeHead(204, { "x-origin": "empty" }).end();
      const body = `seen ${req.method} ${req.url}`;
      res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body), "x-origin": "length" }).end(req.method === "HEAD" ? undefined : body);
    });
  });
}

/** Sends `bytes` on a new connection; returns the response, or undefined when the proxy closed without one. */
async function send(port: number, bytes: Buffer, head: boolean): Promise<RawResponse | undefined> {
  const conn = await RawConnection.open(port);
  try {
    conn.write(bytes);
    return await conn.readResponse({ head, timeoutMs: 10_000 });
  } catch (error) {
    if (conn.ended) return undefined;
    throw error;
  } finally {
    conn.close();
  }
}

function visible(res: RawResponse | undefined): unknown {
  if (!res) return "closed without an answer";
  const fields = Object.entries(res.headers).filter(([name]) => !RESPONSE_OWN.has(name)).sort();
  return { status: res.status, fields, body: res.body.toString("latin1") };
}

describe("petit and nginx, side by side", { skip: NGINX ? false : "nginx is not installed" }, () => {
  const seen: Seen[] = [];
  let origin: Server;
  let relay: Relay;
  let client: Client;
  let nginx: Nginx;

  before(async () => {
    origin = recordingOrigin(seen);
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    const port = (origin.address() as { port: number }).port;
    relay = await startRelay();
    client = await registerClient(relay, { name: "diff", target: `127.0.0.1:${port}` });
    await client.up();
    nginx = await startNginx({ host: HOST, upstream: port });
  });
  after(async () => {
    await nginx?.stop();
    await client?.stop();
    await relay?.stop();
    await new Promise((resolve) => origin?.close(resolve));
  });

  /** Sends case `bytes` through one proxy; returns what the origin got (or nothing) and what came back. */
  async function through(port: number, bytes: Buffer, head: boolean): Promise<{ got: Seen | undefined; res: RawResponse | undefined }> {
    const before = seen.length;
    const res = await send(port, bytes, head);
    // The origin records at the request's end, which comes before its answer: nothing more is on its way.
    return { got: seen.length > before ? seen.at(-1) : undefined, res };
  }

  test("a well-formed request reaches the origin the same through petit as through nginx, and its answer comes back the same", async () => {
    for (const c of WELL_FORMED) {
      const bytes = c.bytes(HOST, client.accessToken);
      const viaPetit = await through(relay.httpPort, bytes, c.head ?? false);
      const viaNginx = await through(nginx.port, bytes, c.head ?? false);
      assert.ok(viaNginx.got, `${c.name}: nginx did not pass it on (is the case well-formed?)`);
      assert.deepEqual(viaPetit.got, viaNginx.got, `${c.name}: the origin got something else through petit`);
      assert.deepEqual(visible(viaPetit.res), visible(viaNginx.res), `${c.name}: the visitor got something else back through petit`);
    }
  });

  test("petit refuses every malformed request before the origin sees a byte, including each one nginx refuses", async (t) => {
    const lenient: string[] = [];
    for (const c of MALFORMED) {
      const bytes = c.bytes(HOST, client.accessToken);
      const viaPetit = await through(relay.httpPort, bytes, false);
      assert.equal(viaPetit.got, undefined, `${c.name}: the origin got it through petit`);
      const status = viaPetit.res?.status;
      assert.ok(status === undefined || (status >= 400 && status < 500), `${c.name}: petit answered ${status}`);
      const viaNginx = await through(nginx.port, bytes, false);
      if (viaNginx.got) lenient.push(c.name);
    }
    t.diagnostic(`nginx passed on ${lenient.length} of ${MALFORMED.length} that petit refuses: ${lenient.join("; ") || "none"}`);
  });
});
