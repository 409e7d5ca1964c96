/**
 * The benchmark's origin: a node:http server in a process of its own, so the
 * load generator and the measuring script never take its CPU. `/` answers a
 * small fixed body; `/bulk?size=N` streams N bytes; `/upload` reads a body
 * and answers its size. It exits when its stdin
 * closes, so it never outlives the benchmark, even one killed with -9.
 * @module
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { serveChild } from "./serve-child.ts";

const SMALL = Buffer.from('{"ok":true,"from":"petit-bench-origin"}\n');
const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

/** A running origin. */
export interface Origin {
  port: number;
  pid: number;
}

function serve(): void {
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const url = new URL(req.url ?? "/", "http://origin");
    if (url.pathname === "/upload") {
      let size = 0;
      req.on("data", (chunk: Buffer) => void (size += chunk.length));
      req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end(`${size}\n`));
      return;
    }
    if (url.pathname !== "/bulk") {
      res.writeHead(200, { "content-type": "application/json", "content-length": SMALL.length });
      res.end(SMALL);
      return;
    }
    const size = Math.max(0, Math.min(Number(url.searchParams.get("size")) || 0, 4 * 1024 ** 3));
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        const part = size - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, size - sent);
        sent += part.length;
        if (!res.write(part)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => { sent = size; });
    pump();
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`port=${(server.address() as { port: number }).port}\n`);
  });
  process.stdin.on("end", () => process.exit(0)).resume();
}

/** Starts the origin process on a free port of 127.0.0.1 and registers it for cleanup. */
export function startOrigin(): Promise<Origin> {
  return serveChild("origin", fileURLToPath(import.meta.url));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--serve") serve();
