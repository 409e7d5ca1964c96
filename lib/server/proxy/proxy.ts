/**
 * The Host-header proxy: `<id>.<domain>` or `<name>.<domain>` goes to
 * 127.0.0.1:<port>, the relay end of that client's tunnel. A forwarder on
 * plain `net`/`tls` sockets: each visitor connection is a Visitor (its
 * heads parsed by http1/, admitted by admit.ts, relayed by exchange.ts
 * over pooled, kept-alive tunnel connections, because each new one costs
 * an SSH channel). Upgrade (WebSocket) and CONNECT become byte pipes.
 * @module
 */
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { connectionLimit } from "./connection-limit.ts";
import { createContext } from "./context.ts";
import { takeOverReads } from "./own-reads.ts";
import { acceptProxyProtocol } from "./proxy-protocol-accept.ts";
import { answerTlsAlpnChallenges } from "./tls-alpn-accept.ts";
import type { ProxyOptions } from "./types.ts";
import { Visitor } from "./visitor.ts";

export { DEFAULT_REQUESTS_PER_SOURCE } from "./context.ts";

/** How long a visitor has for its TLS handshake (node's default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** How often deadlines (head, keep-alive, upstream_timeout, body pace) and idle tunnel connections are checked. */
const SWEEP_MS = 250;

/** The proxy server, with ways to close its pools to the tunnels and its visitors' connections. */
export type ProxyServer = Server & { closePools(): Promise<void>; closeAllConnections(): void };

/** Creates (but does not start) the proxy server: HTTPS when `options.tls` is given, else HTTP. */
export function createProxyServer(options: ProxyOptions): ProxyServer {
  const context = createContext(options);
  const visitors = new Set<Visitor>();
  // Half-open: a visitor that sends its request and shuts its side still gets the answer.
  const settings = { allowHalfOpen: true, noDelay: true };
  // Plain connections are read into the proxy's shared buffer (own-reads.ts); TLS and PROXY-header ones stay streams.
  const ownReads = !options.tls && !options.proxyProtocol;
  // TLS connections become half-open only once secure: node's half-open TLS server keeps a connection whose peer
  // goes away during the handshake open for ever (its file descriptor, and its place in its source's limit).
  const server: Server = options.tls
    ? createTlsServer({ ...settings, allowHalfOpen: false, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS, ...options.tls })
    : createNetServer({ ...settings, pauseOnConnect: ownReads });
  if (options.tls) server.on("tlsClientError", (_error: Error, socket: Socket) => socket.destroy());
  // Now, while TLS's own "connection" listener is the only one: it then runs after the look at the ClientHello, the
  // listeners added below (the connection limit) at once.
  if (options.tls && options.tlsAlpnChallenges) answerTlsAlpnChallenges(server, options.tlsAlpnChallenges, options.log);
  const admitSource = connectionLimit(options.maxConnectionsPerSource ?? 256, options.trustedProxies);
  const closed = (visitor: Visitor) => visitors.delete(visitor);
  if (ownReads) {
    server.on("connection", (accepted: Socket) => {
      let visitor: Visitor | undefined;
      const socket = takeOverReads(accepted, server, context.reads, (chunk) => visitor?.read(chunk));
      if (!admitSource(socket)) return void socket.destroy();
      visitor = new Visitor(socket, context, closed, true);
      visitors.add(visitor);
    });
  } else {
    server.on("connection", (socket: Socket) => void (admitSource(socket) || socket.destroy()));
    server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
      if (options.tls) {
        socket.setNoDelay(true);
        socket.allowHalfOpen = true;
      }
      visitors.add(new Visitor(socket, context, closed));
    });
    // Last of the "connection" listeners: it runs them once the header has named the visitor.
    if (options.proxyProtocol) acceptProxyProtocol(server, options.trustedProxies, options.log);
  }
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const visitor of visitors) visitor.sweep(now);
    for (const pool of context.pools.values()) pool.sweep(now);
  }, SWEEP_MS).unref();
  server.on("close", () => clearInterval(sweeper));
  return Object.assign(server, {
    async closePools() {
      for (const pool of context.pools.values()) pool.close();
      context.pools.clear();
    },
    closeAllConnections() {
      for (const visitor of visitors) visitor.destroy();
    },
  });
}
