/**
 * A cap on the connections one source address may hold open at once, so one
 * visitor cannot take all of the proxy's sockets.
 * @module
 */
import type { BlockList, Socket } from "node:net";
import { inList, isProxied, peerAddress } from "../../http/client-address.ts";

/**
 * Returns the check for each new connection: false (the caller closes it)
 * when its source already holds `limit` open ones; else it is counted until
 * it closes. The source is the visitor a PROXY header named, else the TCP
 * peer; a trusted load balancer's own connections carry many visitors and
 * are not counted (their requests are, per visitor, in fair-share.ts).
 */
export function connectionLimit(limit: number, trusted?: BlockList): (socket: Socket) => boolean {
  const open = new Map<string, number>();
  return (socket) => {
    const source = peerAddress(socket);
    if (!isProxied(socket) && inList(trusted, source)) return true;
    const count = (open.get(source) ?? 0) + 1;
    if (count > limit) return false;
    open.set(source, count);
    socket.once("close", () => {
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
    return true;
  };
}
