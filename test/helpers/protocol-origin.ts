/**
 * Origins for protocol tests: an HTTP server that speaks WebSocket's
 * handshake (then echoes raw bytes), server-sent events, trailers, long
 * polls and chunked bodies, and records every request it sees; and a plain
 * TCP echo server.
 * @module
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";

/** The GUID RFC 6455 §1.3 appends to Sec-WebSocket-Key before hashing. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Returns the Sec-WebSocket-Accept value for `key`. */
export function websocketAccept(key: string): string {
  return createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");
}

/** Returns `size` bytes of a fixed pattern, the body of /download. */
export function patternBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

/** Answers an upload (/upload) with its size and SHA-256 as JSON, once it has all arrived. */
export function answerUpload(req: IncomingMessage, res: ServerResponse): void {
  const hash = createHash("sha256");
  let size = 0;
  req.on("data", (chunk: Buffer) => { hash.update(chunk); size += chunk.length; });
  req.on("end", () => res.end(JSON.stringify({ size, sha256: hash.digest("hex") })));
}

/** A request as the origin saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** A running protocol origin. */
export interface ProtocolOrigin {
  port: number;
  server: Server;
  seen: SeenRequest[];
  /** Whether /sse has sent its second event yet. */
  sse: { secondSent: boolean };
  close(): Promise<void>;
}

/** Starts the protocol origin on 127.0.0.1 at a free port. */
export async function startProtocolOrigin(): Promise<ProtocolOrigin> {
  const seen: SeenRequest[] = [];
  const sse = { secondSent: false };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/upload") return answerUpload(req, res);
    req.resume();
    if (url.pathname === "/download") {
      // No Content-Length: Node sends it chunked.
      const body = patternBytes(Number(url.searchParams.get("size") ?? 0));
      res.writeHead(200, { "content-type": "application/octet-stream" });
      let at = 0;
      const pump = () => {
        while (at < body.length) {
          const part = body.subarray(at, at + 100_000);
          at += part.length;
          if (!res.write(part)) return void res.once("drain", pump);
        }
        res.end();
      };
      return pump();
    }
    if (url.pathname === "/sse") {
      sse.secondSent = false;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write("data: one\n\n");
      const timer = setTimeout(() => { sse.secondSent = true; res.end("data: two\n\n"); }, 500);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    if (url.pathname === "/trailers") {
      const body = patternBytes(200_000);
      res.writeHead(200, { "content-type": "application/octet-stream", trailer: "x-checksum" });
      res.write(body);
      res.addTrailers({ "x-checksum": createHash("sha256").update(body).digest("hex") });
      return void res.end();
    }
    if (url.pathname === "/slow") {
      const timer = setTimeout(() => res.end("late answer"), 3_000);
      res.on("close", () => clearTimeout(timer));
      return;
    }
    res.setHeader("content-type", "application/json");
    res.setHeader("x-origin", "protocol-origin");
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  server.on("connection", (socket: Socket) => { sockets.add(socket); socket.on("close", () => sockets.delete(socket)); });
  server.on("upgrade", (req, socket: Socket, head: Buffer) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const key = req.headers["sec-websocket-key"];
    if (req.headers.upgrade?.toLowerCase() !== "websocket" || typeof key !== "string") {
      return void socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${websocketAccept(key)}\r\n\r\n`);
    // After the handshake this origin is a raw echo: whatever arrives goes back.
    if (head.length) socket.write(head);
    socket.pipe(socket);
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port, server, seen, sse,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Starts a TCP echo server on 127.0.0.1 at a free port. */
export async function startEchoServer(): Promise<{ port: number; server: TcpServer; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port, server,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
