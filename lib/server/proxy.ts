/**
 * The Host-header proxy: `<id>.<domain>` or `<name>.<domain>` goes to
 * 127.0.0.1:<port>, the relay end of that client's tunnel. Bodies stream both
 * ways; connections to tunnels are pooled and kept alive, because each new
 * connection costs a new SSH channel. Upgrade (WebSocket) and CONNECT become
 * raw byte pipes through the tunnel (proxy-raw.ts). Which tunnel a request is
 * for, and whether its visitor may reach it, is decided in proxy-admit.ts.
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { BlockList } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { Pool } from "undici";
import { sendText } from "../http/body.ts";
import { HOP_BY_HOP } from "../http/headers.ts";
import { createWebServer } from "../http/server.ts";
import { limitConnectionsPerSource } from "./connection-limit.ts";
import { countedBody, type ClientCounters, type ProxyMetrics } from "./metrics.ts";
import { admit, describeTunnelError } from "./proxy-admit.ts";
import { buildForwardedHeaders } from "./proxy-headers.ts";
import { connectThroughTunnel, upgradeThroughTunnel } from "./proxy-raw.ts";
import type { Access } from "./registry-records.ts";
import type { VisitorGate } from "./visitor-auth.ts";

/** A tunnel the proxy can reach. */
export interface Route {
  id: number;
  port: number;
  access: Access;
}

/** Settings of the proxy. */
export interface ProxyOptions {
  domain: string;
  /** Finds the tunnel for a label ("1001" or a name). */
  resolve: (label: string) => Route | undefined;
  gate: VisitorGate;
  /** Load balancers whose X-Forwarded-* headers are believed; others' are replaced. */
  trustedProxies?: BlockList;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Connections one source address may hold open at once. */
  maxConnectionsPerSource?: number;
  /** How long a service may take to begin its answer before the visitor gets 504 (default 300 s). */
  upstreamTimeoutMs?: number;
  /** Counters to bump (requests, bytes, refusals); none when absent. */
  metrics?: ProxyMetrics;
  /** Called once per answered request (the access log); none when absent. */
  onAnswered?: (req: IncomingMessage, status: number, ms: number) => void;
  log: (line: string) => void;
}

/** The proxy server, with a way to close its pools to the tunnels. */
export type ProxyServer = Server & { closePools(): Promise<void> };

/** Creates (but does not start) the proxy server. */
export function createProxyServer(options: ProxyOptions): ProxyServer {
  const pools = new Map<number, Pool>();
  const poolFor = (port: number): Pool => {
    let pool = pools.get(port);
    if (!pool) {
      pool = new Pool(`http://127.0.0.1:${port}`, {
        connections: 128,
        keepAliveTimeout: 4_000,
        headersTimeout: options.upstreamTimeoutMs ?? 300_000,
        bodyTimeout: 0, // long-polling and server-sent events may idle for long
      });
      pools.set(port, pool);
    }
    return pool;
  };
  const settings = { headersTimeout: 20_000, requestTimeout: 0, keepAliveTimeout: 60_000, maxHeaderSize: 16_384 };
  const { metrics, onAnswered } = options;
  const timed = metrics !== undefined || onAnswered !== undefined;
  const answered = (req: IncomingMessage, status: number, started: number) => {
    const ms = performance.now() - started;
    metrics?.answered(status, ms);
    onAnswered?.(req, status, ms);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = timed ? performance.now() : 0;
    forward(req, res, options, poolFor).then(
      () => timed && answered(req, res.statusCode, started),
      (error) => {
        options.log(`proxy: ${req.headers.host} ${req.method} ${req.url}: ${(error as Error).message}`);
        res.destroy();
        if (timed) answered(req, res.headersSent ? res.statusCode : 502, started);
      },
    );
  };
  const server = createWebServer(settings, options.tls, onRequest);
  server.maxHeadersCount = 100;
  limitConnectionsPerSource(server, options.maxConnectionsPerSource ?? 256);
  // Node hands Upgrade and CONNECT sockets over without an error listener: a visitor's reset must not kill the daemon.
  const guard = (socket: Duplex): Duplex => socket.on("error", () => socket.destroy());
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => upgradeThroughTunnel(req, guard(socket), head, options));
  server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => connectThroughTunnel(req, guard(socket), head, options));
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Malformed requests (smuggling attempts, obs-fold, oversized headers) get a one-line 400 and a closed connection.
    if (!socket.writable) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    const text = `petit: malformed request (${error.code ?? "bad request"})\n`;
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`);
  });
  return Object.assign(server, {
    async closePools() {
      await Promise.all([...pools.values()].map((p) => p.destroy()));
      pools.clear();
    },
  });
}

/** Admits the request and relays it through its tunnel, counting it for its client. */
async function forward(
  req: IncomingMessage, res: ServerResponse, options: ProxyOptions, poolFor: (port: number) => Pool,
): Promise<void> {
  const route = admit(req, options, req.headers.host);
  if ("reason" in route) return sendText(res, route.status, `petit: ${route.reason}`, route.headers);
  const counters = options.metrics?.client(route.id);
  if (!counters) return relay(req, res, options, poolFor, route, undefined);
  counters.requests++;
  counters.active++;
  try {
    await relay(req, res, options, poolFor, route, counters);
  } finally {
    counters.active--;
  }
}

/** Sends the request through the tunnel and streams the answer back, counting bytes into `counters`. */
async function relay(
  req: IncomingMessage, res: ServerResponse, options: ProxyOptions, poolFor: (port: number) => Pool,
  route: Route, counters: ClientCounters | undefined,
): Promise<void> {
  let upstream;
  try {
    upstream = await poolFor(route.port).request({
      method: req.method as "GET",
      path: req.url ?? "/",
      headers: buildForwardedHeaders(req, options),
      // undici takes async iterables (its docs say so; its types lag behind).
      body: !hasBody(req) ? undefined : counters ? countedBody(req, counters) as unknown as Readable : req,
    });
  } catch (error) {
    if (res.headersSent) throw error;
    if ((error as NodeJS.ErrnoException).code === "UND_ERR_HEADERS_TIMEOUT") {
      const seconds = (options.upstreamTimeoutMs ?? 300_000) / 1000;
      return sendText(res, 504, `petit: tunnel ${route.id} is connected, but the service behind it sent no answer within ${seconds} s (server.upstream_timeout)`);
    }
    return sendText(res, 502, `petit: tunnel ${route.id} ${describeTunnelError(error as NodeJS.ErrnoException)}`);
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  res.writeHead(upstream.statusCode, headers);
  // A body of unknown length (server-sent events, long polls) may idle: send the status now. A sized one goes
  // out with its first chunk in one write.
  if (headers["content-length"] === undefined) res.flushHeaders();
  // Attached in the same tick as the pipeline, so both see every chunk.
  if (counters) upstream.body.on("data", (chunk: Buffer) => void (counters.bytesOut += chunk.length));
  await pipeInto(upstream.body, res);
  // Trailers are known only once the body has ended; they travel with chunked bodies only.
  const trailers = upstream.trailers;
  if (trailers && Object.keys(trailers).length && !res.hasHeader("content-length")) {
    res.addTrailers(trailers as Record<string, string>);
  }
  res.end();
}

/** Pipes `body` into `res` without ending it; resolves at the body's end, rejects when either side fails. */
function pipeInto(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error?: Error) => {
      body.destroy();
      reject(error ?? new Error("visitor went away"));
    };
    body.once("error", fail);
    res.once("close", () => (res.writableFinished ? undefined : fail()));
    body.once("end", resolve);
    body.pipe(res, { end: false });
  });
}

/** Tells whether a request carries a body (RFC 9112 §6.3). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}
