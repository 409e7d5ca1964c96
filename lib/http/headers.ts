/**
 * Which headers a proxy passes on (RFC 9110 §7.6.1).
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";

/** Headers that describe one hop, plus the visitor's credentials for petit itself. */
export const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
  "te", "trailer", "transfer-encoding", "upgrade", "expect", "x-petit-token",
]);

/**
 * Returns `headers` without hop-by-hop ones and those the Connection header
 * names. `keep` lists hop-by-hop names to pass anyway (Upgrade, for WebSocket).
 */
export function endToEndHeaders(headers: IncomingHttpHeaders, keep: string[] = []): Record<string, string | string[]> {
  const drop = new Set(HOP_BY_HOP);
  for (const token of String(headers.connection ?? "").split(",")) drop.add(token.trim().toLowerCase());
  for (const name of keep) drop.delete(name);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !drop.has(name)) out[name] = value;
  return out;
}
