/**
 * The Host-header proxy: `<id>.<domain>` or `<name>.<domain>` goes to
 * 127.0.0.1:<port>, the relay end of that client's tunnel. Bodies stream both
 * ways; connections to tunnels are pooled and kept alive, because each new
 * connection costs a new SSH channel. Upgrade (WebSocket) and CONNECT become
 * raw byte pipes through the tunnel (raw.ts). Which tunnel a request is
 * for, and whether its visitor may reach it, is decided in admit.ts.
 * @module
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Pool } from "undici";
import { limitConnectionsPerSource } from "./connection-limit.ts";
import { FairShare } from "./fair-share.ts";
import { createWebServer } from "../../http/server.ts";
import { DEFAULT_BODY_MIN_RATE, DEFAULT_BODY_TIMEOUT } from "./body.ts";
import { acceptProxyProtocol } from "./proxy-protocol-accept.ts";
import { connectThroughTunnel } from "./raw.ts";
import { forward } from "./relay.ts";
import { upgradeThroughTunnel } from "./upgrade.ts";
import type { ProxyOptions } from "./types.ts";

/** Connections the proxy opens to one tunnel at most (each one an SSH channel). */
const POOL_CONNECTIONS = 128;
/** Default `server.requests_per_source`: a quarter of a tunnel's pool, so at least three other visitors always get through. */
export const DEFAULT_REQUESTS_PER_SOURCE = 32;

/** The proxy server, with a way to close its pools to the tunnels. */
export type ProxyServer = Server & { closePools(): Promise<void> };

/** Creates (but does not start) the proxy server. */
export function createProxyServer(options: ProxyOptions): ProxyServer {
  const pools = new Map<number, Pool>();
  const poolFor = (port: number): Pool => {
    let pool = pools.get(port);
    if (!pool) {
      pool = new Pool(`http://127.0.0.1:${port}`, {
        connections: POOL_CONNECTIONS,
        keepAliveTimeout: 4_000,
        headersTimeout: options.upstreamTimeoutMs ?? 300_000,
        bodyTimeout: 0, // long-polling and server-sent events may idle for long
      });
      pools.set(port, pool);
    }
    return pool;
  };
  const context = {
    options, poolFor, shares: new FairShare(options.requestsPerSource ?? DEFAULT_REQUESTS_PER_SOURCE),
    pace: { timeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT * 1000, minRate: options.bodyMinRate ?? DEFAULT_BODY_MIN_RATE },
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
    forward(req, res, context).then(
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
  limitConnectionsPerSource(server, options.maxConnectionsPerSource ?? 256, options.trustedProxies);
  // Last of the "connection" listeners: it runs them once the header has named the visitor.
  if (options.proxyProtocol) acceptProxyProtocol(server, options.trustedProxies, options.log);
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
