/**
 * Small HTTP helpers shared by petit's JSON APIs.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Reads a request body up to `limit` bytes; rejects with status 413 beyond it. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      // Not destroyed, nor closed after the answer: a client still sending
      // would get a reset (EPIPE) instead of the 413. The rest is read and
      // dropped for at most LINGER_MS, then the connection is cut.
      const cut = setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
      req.once("end", () => clearTimeout(cut));
      req.resume();
      reject(Object.assign(new Error(`request body is larger than ${limit} bytes`), { status: 413 }));
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** How long an over-long body is drained after its 413, so the client reads the answer. */
const LINGER_MS = 2_000;

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + "\n";
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Sends a one-line plain-text answer with `status`. */
export function sendText(res: ServerResponse, status: number, line: string, headers: Record<string, string> = {}): void {
  const text = line + "\n";
  res.writeHead(status, {
    ...headers, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
