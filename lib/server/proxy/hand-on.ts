/**
 * Putting a step in front of a server's own "connection" listeners (a PROXY
 * header read, a TLS-ALPN-01 validation answered): the listeners present now
 * are taken off, and the step hands each connection on to them when it is done.
 * @module
 */
import type { Server, Socket } from "node:net";

/** Takes `server`'s "connection" listeners off; returns what runs them on a socket, in order, until one closes it. */
export function takeConnectionListeners(server: Server): (socket: Socket) => void {
  const listeners = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  return (socket) => {
    for (const listener of listeners) {
      if (socket.destroyed) return;
      listener.call(server, socket);
    }
  };
}
