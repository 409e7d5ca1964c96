/**
 * A real HTTP origin for tests: answers with its name, hashes uploads,
 * streams downloads of a requested size (with Content-Length; the protocol
 * origin's are chunked). Shares its upload and byte pattern with
 * protocol-origin.ts.
 * @module
 */
import { createServer, type Server } from "node:http";
import { answerUpload, patternBytes } from "./protocol-origin.ts";

/** Starts the origin on 127.0.0.1 at a free port. */
export async function startOrigin(name = "origin"): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/upload") return answerUpload(req, res);
    if (url.pathname === "/download") {
      const size = Number(url.searchParams.get("size") ?? 0);
      const chunk = patternBytes(64 * 1024);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
          sent += part.length;
          if (!res.write(part)) return res.once("drain", pump);
        }
        res.end();
      };
      return pump();
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port, server,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
