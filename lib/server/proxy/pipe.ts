/**
 * Raw byte pipes through a tunnel, for HTTP Upgrade (WebSocket) and CONNECT:
 * after the handshake the proxy only copies bytes both ways.
 * @module
 */
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/**
 * Opens a TCP connection to 127.0.0.1:`port`, writes `preamble` (may be
 * empty) and then pipes `visitor` and the tunnel into each other. Calls
 * `onOpen` once connected, `onError` when the tunnel cannot be reached.
 */
export function pipeThroughTunnel(
  visitor: Duplex, port: number, preamble: Buffer,
  handlers: { onOpen?: (tunnel: Socket) => void; onError: (error: NodeJS.ErrnoException) => void; forward?: Forward },
): void {
  const tunnel = connect({ host: "127.0.0.1", port, noDelay: true });
  let opened = false;
  tunnel.once("connect", () => {
    opened = true;
    handlers.onOpen?.(tunnel);
    if (preamble.length) tunnel.write(preamble);
    joinSockets(visitor, tunnel, handlers.forward);
  });
  tunnel.on("error", (error) => {
    if (!opened) handlers.onError(error);
    visitor.destroy();
  });
  visitor.on("error", () => tunnel.destroy());
  visitor.on("close", () => tunnel.destroy());
  tunnel.on("close", () => visitor.destroy());
}

/** Starts the visitor's bytes flowing into `tunnel`: a stream pipe, unless the proxy reads the visitor's socket itself (own-reads.ts). */
export type Forward = (tunnel: Socket) => void;

/** Pipes `visitor` and `tunnel` into each other; either closing or failing ends both. */
export function joinSockets(visitor: Duplex, tunnel: Socket, forward: Forward = (t) => void visitor.pipe(t)): void {
  forward(tunnel);
  tunnel.pipe(visitor);
  visitor.on("error", () => tunnel.destroy());
  visitor.on("close", () => tunnel.destroy());
  tunnel.on("error", () => visitor.destroy());
  tunnel.on("close", () => visitor.destroy());
}
