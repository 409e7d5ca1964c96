/**
 * A cap on the connections one source address may hold open at once, so one
 * visitor cannot take all of the proxy's sockets.
 * @module
 */
import type { BlockList, Server, Socket } from "node:net";
import { inList, isProxied, peerAddress } from "../../http/client-address.ts";

/**
 * Closes new connections from a source that already holds `limit` open
 * ones. The source is the visitor a PROXY header named, else the TCP peer;
 * a trusted load balancer's own connections carry many visitors and are
 * not counted (their requests are, per visitor, in fair-share.ts).
 */
export function limitConnectionsPerSource(server: Server, limit: number, trusted?: BlockList): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const source = peerAddress(socket);
    if (!isProxied(socket) && inList(trusted, source)) return;
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
