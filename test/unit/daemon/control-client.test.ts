/**
 * callControl() against real HTTP servers on loopback: answers, errors,
 * silence, nobody listening, and no connection left open afterwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { callControl } from "../../../lib/daemon/control-client.ts";
import { CONTROL_SECRET_HEADER } from "../../../lib/constants.ts";
import { freePort } from "../../helpers/ports.ts";

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

test("callControl() sends the secret and a JSON body, returns the JSON answer, and leaves no connection open", async () => {
  let seen: { secret: unknown; body: string; method: string | undefined } | undefined;
  let closed = false;
  const daemon = await serve((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen = { secret: req.headers[CONTROL_SECRET_HEADER], body, method: req.method };
      req.socket.once("close", () => (closed = true));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: 1 }));
    });
  });
  try {
    const answer = await callControl<{ ok: number }>({ port: daemon.port, secret: "s3cret" }, "/v1/x", { method: "POST", body: { a: 1 } });
    assert.deepEqual(answer, { ok: 1 });
    assert.deepEqual(seen, { secret: "s3cret", body: '{"a":1}', method: "POST" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(closed, true, "the connection was closed after the answer");
  } finally {
    await daemon.close();
  }
});

test("callControl() throws the daemon's error message with its status", async () => {
  const daemon = await serve((_, res) => res.writeHead(404).end(JSON.stringify({ error: 'no client "x" is registered' })));
  try {
    await assert.rejects(callControl({ port: daemon.port, secret: "s" }, "/v1/clients/x/revoke"),
      (error: Error & { status?: number }) => error.message === 'no client "x" is registered' && error.status === 404);
  } finally {
    await daemon.close();
  }
});

test("callControl() returns undefined when nothing listens, and says the daemon is stuck when it never answers", async () => {
  assert.equal(await callControl({ port: await freePort(), secret: "s" }, "/v1/status"), undefined);
  const silent = await serve(() => undefined);
  try {
    const started = Date.now();
    await assert.rejects(callControl({ port: silent.port, secret: "s" }, "/v1/status", { timeout: 300 }),
      /Nothing answered on 127\.0\.0\.1:\d+ within 0\.3 s: the daemon is stuck \(see its log\), or another program holds that port \(find it with: ss -tlnp 'sport = :\d+'\)$/);
    assert.ok(Date.now() - started < 2_000);
  } finally {
    await silent.close();
  }
});
