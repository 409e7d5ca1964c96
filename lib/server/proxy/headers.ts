/**
 * The request headers the proxy sends on to a tunnel: hop-by-hop ones
 * dropped, X-Forwarded-For/-Proto/-Host set (or extended, behind a trusted
 * load balancer), X-Real-IP set to the client address, Forwarded dropped.
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { endToEndHeaders } from "../../http/headers.ts";
import { clientAddress, inList, peerAddress } from "../../http/client-address.ts";
import type { ProxyOptions } from "./types.ts";

/**
 * Headers that name the visitor, set by petit alone: a visitor's own would
 * reach the service as if the relay vouched for them. Forwarded (RFC 7239)
 * is dropped rather than rebuilt: X-Forwarded-* carry the same.
 */
const SET_BY_PETIT = new Set(["forwarded", "x-real-ip", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]);

/**
 * Returns the headers to send on for `req`. `keep` lists hop-by-hop names to
 * pass anyway (Upgrade, for WebSocket).
 */
export function buildForwardedHeaders(
  req: IncomingMessage, options: ProxyOptions, keep: string[] = [],
): Record<string, string | string[]> {
  const headers = endToEndHeaders(req.headers, keep, SET_BY_PETIT);
  const peer = peerAddress(req.socket as Socket);
  // Only a trusted load balancer's X-Forwarded-* are believed; anyone else's are replaced. Behind PROXY protocol
  // the peer is the visitor the balancer named, whose own X-Forwarded-* are not believed either.
  const trusted = inList(options.trustedProxies, peer);
  const prior = trusted ? req.headers["x-forwarded-for"] : undefined;
  headers["x-forwarded-for"] = prior ? `${prior}, ${peer}` : peer;
  headers["x-real-ip"] = clientAddress(req, options.trustedProxies);
  const proto = options.tls ? "https" : "http";
  headers["x-forwarded-proto"] = trusted ? String(req.headers["x-forwarded-proto"] ?? proto) : proto;
  headers["x-forwarded-host"] = trusted ? String(req.headers["x-forwarded-host"] ?? req.headers.host ?? "") : req.headers.host ?? "";
  return headers;
}
