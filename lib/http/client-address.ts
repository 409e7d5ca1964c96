/**
 * Who a visitor is: the address every source-based decision uses (the
 * failed-access lockout, allow_from, per-source caps and shares, the access
 * log). It is the TCP peer, unless that peer is a trusted load balancer:
 * then the PROXY protocol header it sent, or the right-most address of
 * X-Forwarded-For that is not itself a trusted proxy.
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";
import { isIP, type BlockList, type Socket } from "node:net";

/** What the address of a request's sender is worked out from: its fields and its connection (an IncomingMessage, or the proxy's own request). */
export interface RequestFrom {
  headers: IncomingHttpHeaders;
  socket: Socket | null;
}

/** The visitor a PROXY protocol header named, by the raw socket it came on. */
const proxied = new WeakMap<object, string>();
/** A request's client address, once worked out (requests are read once per decision; this keeps it to one walk). */
const CLIENT = Symbol("petit.clientAddress");

/** Records the visitor a trusted balancer's PROXY header named for `socket`. */
export function setProxiedSource(socket: Socket, source: string): void {
  proxied.set(socket, source);
}

/** Returns `address` without the "::ffff:" an IPv4 visitor has on a dual-stack listener. */
export function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Tells whether `address` is in `list` (false for no list and for anything not an IP address). */
export function inList(list: BlockList | undefined, address: string): boolean {
  if (list === undefined) return false;
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * Returns the connection's peer: the address in the PROXY header a trusted
 * balancer sent on it, else the TCP peer. For TLS, the raw socket under it
 * holds the header's address.
 */
export function peerAddress(socket: Socket): string {
  const own = proxied.get(socket) ?? proxied.get((socket as Socket & { _parent?: object })._parent ?? socket);
  return own ?? plainAddress(socket.remoteAddress ?? "");
}

/** Tells whether the connection's address came from a PROXY header. */
export function isProxied(socket: Socket): boolean {
  return proxied.has(socket) || proxied.has((socket as Socket & { _parent?: object })._parent ?? socket);
}

/**
 * Returns the address of the visitor who sent `req`, worked out once per
 * request. X-Forwarded-For counts only when the peer is in `trusted`.
 */
export function clientAddress(req: RequestFrom, trusted: BlockList | undefined): string {
  const cached = (req as RequestFrom & { [CLIENT]?: string })[CLIENT];
  if (cached !== undefined) return cached;
  const peer = peerAddress(req.socket as Socket);
  const header = req.headers["x-forwarded-for"];
  const address = trusted && header !== undefined && inList(trusted, peer) ? walkForwardedFor(header, peer, trusted) : peer;
  (req as RequestFrom & { [CLIENT]?: string })[CLIENT] = address;
  return address;
}

/** Returns the client address a proxy decided `req` came from, or its peer when none was worked out (the access log). */
export function knownClientAddress(req: RequestFrom): string {
  return (req as RequestFrom & { [CLIENT]?: string })[CLIENT] ?? peerAddress(req.socket as Socket);
}

/**
 * Walks X-Forwarded-For (the text of the visitor and of every proxy on the
 * way) from the right, skipping proxies in `trusted`, and returns the first
 * address not in it: the left-most entries are whatever the visitor wrote.
 * `peer` (a trusted proxy) is returned when every entry is trusted; an entry
 * that is not an IP address ends the walk there, since no trusted proxy
 * wrote it, and `peer`, the nearest trusted hop, answers for it.
 * @example walkForwardedFor("6.6.6.6, 203.0.113.7, 10.0.0.2", "10.0.0.1", lbs) === "203.0.113.7" // lbs holds 10.0.0.0/8
 */
export function walkForwardedFor(header: string | string[], peer: string, trusted: BlockList): string {
  const text = typeof header === "string" ? header : header.join(",");
  let end = text.length;
  let nearest = peer;
  while (end > 0) {
    const comma = text.lastIndexOf(",", end - 1);
    const entry = plainAddress(text.slice(comma + 1, end).trim());
    end = comma < 0 ? 0 : comma;
    if (entry === "") continue; // "a,,b" and a trailing comma: empty list elements are allowed (RFC 9110 §5.6.1)
    if (isIP(entry) === 0) return nearest;
    if (!inList(trusted, entry)) return entry;
    nearest = entry;
  }
  return nearest;
}
