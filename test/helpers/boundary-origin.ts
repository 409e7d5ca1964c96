/**
 * An origin for tests of the proxy's boundaries: it records every request
 * (method, URL, headers) and every byte that reaches it on a connection it
 * did not upgrade, answers Upgrade requests with 426 (never 101), and
 * answers /hop with a header its Connection header names.
 * @module
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

/** A running boundary origin. */
export interface BoundaryOrigin {
  port: number;
  server: Server;
  /** Every request it parsed, in order. */
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  /** Bytes that arrived after an Upgrade request it refused: a proxy must never send any. */
  afterRefusedUpgrade: Buffer[];
  close(): Promise<void>;
}

/** Starts the origin on 127.0.0.1 at a free port. */
export async function startBoundaryOrigin(): Promise<BoundaryOrigin> {
  const seen: BoundaryOrigin["seen"] = [];
  const afterRefusedUpgrade: Buffer[] = [];
  const upgraded = new Set<{ destroy(): void }>();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    if (req.url === "/hop") {
      res.writeHead(200, { connection: "x-secret", "x-secret": "s3cret", "x-public": "fine", "content-length": 3 });
      return res.end("ok\n");
    }
    const body = JSON.stringify({ url: req.url, headers: req.headers });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  server.on("upgrade", (req, socket, head) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    if (head.length) afterRefusedUpgrade.push(head);
    socket.on("data", (chunk: Buffer) => afterRefusedUpgrade.push(chunk));
    socket.on("error", () => socket.destroy());
    upgraded.add(socket);
    socket.on("close", () => upgraded.delete(socket));
    // Kept open after the answer, as a keep-alive server would: whatever the proxy sends next arrives here.
    socket.write("HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nnope\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port, server, seen, afterRefusedUpgrade,
    close: () => new Promise((resolve) => {
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
