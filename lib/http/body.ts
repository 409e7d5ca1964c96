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
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`request body is larger than ${limit} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

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
