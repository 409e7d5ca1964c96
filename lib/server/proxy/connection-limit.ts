/**
 * A cap on the connections one source address may hold open at once, so one
 * visitor cannot take all of the proxy's sockets.
 * @module
 */
import type { BlockList, Socket } from "node:net";
import { inList, isProxied, peerAddress } from "../../http/client-address.ts";

/** How to count a counted connection under another source, by its socket. */
const recounts = new WeakMap<object, (source: string) => boolean>();

/**
 * Returns the check for each new connection: false (the caller closes it)
 * when its source already holds `limit` open ones; else it is counted until
 * it closes. The source is the visitor a PROXY header named, else the TCP
 * peer; a trusted load balancer's own connections carry many visitors and
 * are not counted (their requests are, per visitor, in fair-share.ts).
 */
export function connectionLimit(limit: number, trusted?: BlockList): (socket: Socket) => boolean {
  const open = new Map<string, number>();
  const take = (source: string) => {
    const count = (open.get(source) ?? 0) + 1;
    if (count > limit) return false;
    open.set(source, count);
    return true;
  };
  const give = (source: string) => {
    const left = (open.get(source) ?? 1) - 1;
    if (left > 0) open.set(source, left);
    else open.delete(source);
  };
  return (socket) => {
    let source = peerAddress(socket);
    if (!isProxied(socket) && inList(trusted, source)) return true;
    if (!take(source)) return false;
    let counted = true;
    recounts.set(socket, (visitor) => {
      give(source);
      source = visitor;
      counted = take(visitor);
      return counted;
    });
    socket.once("close", () => {
      if (counted) give(source);
    });
    return true;
  };
}

/**
 * Counts `socket` (or the TCP socket under it, for TLS) under `source` from
 * now on: another relay forwarded it, naming its visitor, so the relay's own
 * address stops counting it. False when `source` already holds its limit.
 */
export function recountSource(socket: Socket, source: string): boolean {
  const recount = recounts.get(socket) ?? recounts.get((socket as Socket & { _parent?: object })._parent ?? socket);
  return recount ? recount(source) : true;
}
