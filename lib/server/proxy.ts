/**
 * The Host-header proxy: `<id>.<domain>` or `<name>.<domain>` goes to
 * 127.0.0.1:<port>, the relay end of that client's tunnel. Bodies stream both
 * ways; connections to tunnels are pooled and kept alive, because each new
 * connection costs a new SSH channel. Upgrade (WebSocket) and CONNECT become
 * raw byte pipes through the tunnel.
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { BlockList, Socket } from "node:net";
import { isIPv6 } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { Pool } from "undici";
import { sendText } from "../http/body.ts";
import { endToEndHeaders, HOP_BY_HOP } from "../http/headers.ts";
import { createWebServer } from "../http/server.ts";
import { countedBody, countPipe, type ClientCounters, type ProxyMetrics } from "./metrics.ts";
import { pipeThroughTunnel } from "./proxy-pipe.ts";
import type { Access } from "./registry.ts";
import { labelFromHost } from "./route.ts";
import type { Refusal, VisitorGate } from "./visitor-auth.ts";

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
  /** Counters to bump (requests, bytes, refusals); none when absent. */
  metrics?: ProxyMetrics;
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
        headersTimeout: 300_000,
        bodyTimeout: 0, // long-polling and server-sent events may idle for long
      });
      pools.set(port, pool);
    }
    return pool;
  };
  const settings = { headersTimeout: 20_000, requestTimeout: 0, keepAliveTimeout: 60_000, maxHeaderSize: 16_384 };
  const metrics = options.metrics;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = metrics ? performance.now() : 0;
    forward(req, res, options, poolFor).then(
      () => metrics?.answered(res.statusCode, performance.now() - started),
      (error) => {
        options.log(`proxy: ${req.headers.host} ${req.method} ${req.url}: ${(error as Error).message}`);
        res.destroy();
        metrics?.answered(res.headersSent ? res.statusCode : 502, performance.now() - started);
      },
    );
  };
  const server = createWebServer(settings, options.tls, onRequest);
  server.maxHeadersCount = 100;
  limitConnectionsPerSource(server, options.maxConnectionsPerSource ?? 256);
  // Node hands Upgrade and CONNECT sockets over without an error listener: a visitor's reset must not kill the daemon.
  const guard = (socket: Duplex): Duplex => socket.on("error", () => socket.destroy());
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(req, guard(socket), head, options));
  server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => connectTunnel(req, guard(socket), head, options));
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

/** Finds the route for a request and checks the visitor; returns the route or the refusal. */
function admit(req: IncomingMessage, options: ProxyOptions, host: string | undefined): Route | Refusal {
  if (hostHeaderCount(req.rawHeaders) > 1) return { status: 400, reason: "more than one Host header" };
  const label = labelFromHost(host, options.domain);
  const route = label === undefined ? undefined : options.resolve(label);
  if (!route) return { status: 404, reason: `no tunnel for host "${(host ?? "").slice(0, 200)}" on this relay` };
  const refusal = options.gate.check(route.access, req.headers, req.socket.remoteAddress ?? "");
  if (refusal) options.metrics?.refused(refusal.status);
  return refusal ?? route;
}

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
      headers: forwardedHeaders(req, options),
      // undici takes async iterables (its docs say so; its types lag behind).
      body: !hasBody(req) ? undefined : counters ? countedBody(req, counters) as unknown as Readable : req,
    });
  } catch (error) {
    if (res.headersSent) throw error;
    return sendText(res, 502, `petit: tunnel ${route.id} ${tunnelError(error as NodeJS.ErrnoException)}`);
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

/** Counts Host headers without allocating (this runs for every request). */
function hostHeaderCount(raw: string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === "host") count++;
  return count;
}

/** HTTP Upgrade (WebSocket and others): the handshake and everything after go through as bytes. */
function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, options: ProxyOptions): void {
  const route = admit(req, options, req.headers.host);
  if ("reason" in route) return refuseRaw(socket, route);
  const headers = forwardedHeaders(req, options, ["upgrade"]);
  headers.connection = "Upgrade";
  const lines = [`${req.method} ${req.url} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
  const preamble = Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), head]);
  pipeThroughTunnel(socket, route.port, preamble, {
    onOpen: (tunnel) => countPipe(options.metrics, route.id, tunnel),
    onError: (error) => refuseRaw(socket, { status: 502, reason: `tunnel ${route.id} ${tunnelError(error)}` }),
  });
}

/** CONNECT <id-or-name>.<domain>:<any port>: a raw TCP pipe to the client's service. */
function connectTunnel(req: IncomingMessage, socket: Duplex, head: Buffer, options: ProxyOptions): void {
  const route = admit(req, options, req.url);
  if ("reason" in route) return refuseRaw(socket, route);
  pipeThroughTunnel(socket, route.port, head, {
    onOpen: (tunnel) => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      countPipe(options.metrics, route.id, tunnel);
    },
    onError: (error) => refuseRaw(socket, { status: 502, reason: `tunnel ${route.id} ${tunnelError(error)}` }),
  });
}

/** Answers a raw (Upgrade or CONNECT) request with a one-line refusal and closes. */
function refuseRaw(socket: Duplex, refusal: Refusal): void {
  if (!socket.writable) return void socket.destroy();
  const text = `petit: ${refusal.reason}\n`;
  const extra = Object.entries(refusal.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(`HTTP/1.1 ${refusal.status} ${refusal.status === 407 ? "Proxy Authentication Required" : "Refused"}\r\n` +
    `${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

function tunnelError(error: NodeJS.ErrnoException): string {
  return error.code === "ECONNREFUSED" ? "is not connected" : `failed (${error.code ?? error.message})`;
}

/** Tells whether a request carries a body (RFC 9112 §6.3). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** The request headers sent on to the tunnel: hop-by-hop ones dropped, X-Forwarded-* set. */
function forwardedHeaders(req: IncomingMessage, options: ProxyOptions, keep: string[] = []): Record<string, string | string[]> {
  const headers = endToEndHeaders(req.headers, keep);
  const source = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const trusted = options.trustedProxies?.check(source, isIPv6(source) ? "ipv6" : "ipv4") ?? false;
  const prior = trusted ? req.headers["x-forwarded-for"] : undefined;
  headers["x-forwarded-for"] = prior ? `${prior}, ${source}` : source;
  const proto = options.tls ? "https" : "http";
  headers["x-forwarded-proto"] = trusted ? String(req.headers["x-forwarded-proto"] ?? proto) : proto;
  headers["x-forwarded-host"] = trusted ? String(req.headers["x-forwarded-host"] ?? req.headers.host ?? "") : req.headers.host ?? "";
  return headers;
}

/** Closes new connections from a source that already holds `limit` open ones. */
function limitConnectionsPerSource(server: Server, limit: number): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const source = socket.remoteAddress ?? "";
    const count = (open.get(source) ?? 0) + 1;
    if (count > limit) return void socket.destroy();
    open.set(source, count);
    socket.once("close", () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
  });
}
