/**
 * The request headers the proxy sends on to a tunnel: hop-by-hop ones
 * dropped, X-Forwarded-For/-Proto/-Host set (or extended, behind a trusted
 * load balancer).
 * @module
 */
import type { IncomingMessage } from "node:http";
import { isIPv6 } from "node:net";
import { endToEndHeaders } from "../http/headers.ts";
import type { ProxyOptions } from "./proxy.ts";

/**
 * Returns the headers to send on for `req`. `keep` lists hop-by-hop names to
 * pass anyway (Upgrade, for WebSocket).
 */
export function buildForwardedHeaders(
  req: IncomingMessage, options: ProxyOptions, keep: string[] = [],
): Record<string, string | string[]> {
  const headers = endToEndHeaders(req.headers, keep);
  const source = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  // Only a trusted load balancer's X-Forwarded-* are believed; anyone else's are replaced.
  const trusted = options.trustedProxies?.check(source, isIPv6(source) ? "ipv6" : "ipv4") ?? false;
  const prior = trusted ? req.headers["x-forwarded-for"] : undefined;
  headers["x-forwarded-for"] = prior ? `${prior}, ${source}` : source;
  const proto = options.tls ? "https" : "http";
  headers["x-forwarded-proto"] = trusted ? String(req.headers["x-forwarded-proto"] ?? proto) : proto;
  headers["x-forwarded-host"] = trusted ? String(req.headers["x-forwarded-host"] ?? req.headers.host ?? "") : req.headers.host ?? "";
  return headers;
}
