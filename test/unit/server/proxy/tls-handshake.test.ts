/**
 * The proxy's TLS listener and visitors that go away during or right after
 * the handshake: their connections must close, or each would hold a file
 * descriptor and its source's place for ever.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { createProxyServer, type ProxyServer } from "../../../../lib/server/proxy/proxy.ts";
import { VisitorGate } from "../../../../lib/server/proxy/visitor-auth.ts";
import { makeCert } from "../../../helpers/certificate.ts";

describe("the proxy's TLS listener", () => {
  const dir = mkdtempSync(join(tmpdir(), "petit-tls-handshake-"));
  let server: ProxyServer;
  let port = 0;

  before(async () => {
    const files = makeCert(dir, "handshake");
    // Three connections per source: the test's fourth would be refused if any of the first ones were still held.
    server = createProxyServer({
      domain: "example.test", resolve: () => undefined, gate: new VisitorGate(undefined), maxConnectionsPerSource: 3,
      tls: { cert: readFileSync(files.cert), key: readFileSync(files.key) }, log: () => undefined,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (then: (socket: TLSSocket) => void) => new Promise<string>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => then(socket));
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.once("close", () => resolve(text));
    socket.once("error", () => undefined);
  });

  test("visitors that reset right after their handshake leave no connection behind: the next one from their address is answered", async () => {
    for (let i = 0; i < 8; i++) await open((socket) => socket.destroy());
    await new Promise((r) => setTimeout(r, 100));
    const answer = await open((socket) => socket.end("GET / HTTP/1.1\r\nHost: 1001.example.test\r\n\r\n"));
    assert.match(answer, /^HTTP\/1\.1 404 /, `the answer was ${JSON.stringify(answer.slice(0, 80))}`);
  });
});
