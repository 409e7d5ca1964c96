/**
 * The request-target (RFC 9112 §3.2): the visitor's text. Absolute-form
 * ("GET http://host/path HTTP/1.1") is turned into origin-form here, before
 * anything routes by it, so the tunnel chosen and the Host the service sees
 * come from the same text.
 * @module
 */
import type { ProxyRequest } from "./types.ts";
import type { Refusal } from "./visitor-auth.ts";

/** The longest authority petit reads out of an absolute-form target (Host is held to the same bound in route.ts). */
const MAX_AUTHORITY = 300;

/**
 * Rewrites an absolute-form `req` in place to origin-form: `req.url` becomes
 * the path and query, and Host the URI's authority, which RFC 9112 §3.2.2
 * makes the request's host whatever Host said (a proxy "MUST generate a new
 * Host field value based on the received request-target"). Origin-form,
 * and the asterisk-form of OPTIONS, are left alone at the cost of one
 * character check. Returns a refusal for a target in no form petit serves.
 * @example "GET http://shop.relay.example.com/a?b HTTP/1.1" → url "/a?b", host "shop.relay.example.com"
 */
export function toOriginForm(req: ProxyRequest): Refusal | undefined {
  const url = req.url;
  if (url.charCodeAt(0) === 47 /* "/" */ || (url === "*" && req.method === "OPTIONS")) return undefined;
  const scheme = url.slice(0, 8).toLowerCase();
  const start = scheme.startsWith("http://") ? 7 : scheme === "https://" ? 8 : -1;
  if (start < 0) return { status: 400, reason: "the request-target must be a path or an http(s) URI (RFC 9112 §3.2)" };
  let end = start;
  while (end < url.length && url[end] !== "/" && url[end] !== "?" && url[end] !== "#") end++;
  const authority = url.slice(start, end);
  // RFC 9110 §4.2.4: userinfo is deprecated in http(s) URIs and a sender must not generate it; a proxy need not route by it.
  if (authority === "" || authority.length > MAX_AUTHORITY || authority.includes("@")) {
    return { status: 400, reason: "an absolute-form request-target must name a host, without user information (RFC 9112 §3.2.2)" };
  }
  const rest = url.slice(end);
  req.url = rest === "" ? "/" : rest.startsWith("?") ? `/${rest}` : rest;
  req.headers.host = authority;
  return undefined;
}
