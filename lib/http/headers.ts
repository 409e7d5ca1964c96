/**
 * Which headers a proxy passes on (RFC 9110 §7.6.1), in both directions.
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";

/** Headers that describe one hop, plus the visitor's credentials for petit itself. */
export const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
  "te", "trailer", "transfer-encoding", "upgrade", "expect", "x-petit-token",
]);

/**
 * Returns `headers` (a request's or a response's) without hop-by-hop ones,
 * those the Connection header names, and those in `alsoDrop`. `keep` lists
 * hop-by-hop names to pass anyway (Upgrade, for WebSocket).
 */
export function endToEndHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>, keep: string[] = [], alsoDrop?: Set<string>,
): Record<string, string | string[]> {
  // Most messages name nothing but keep-alive or close in Connection: a set is made only when it names more.
  const named = connectionNames(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || alsoDrop?.has(name)) continue;
    if ((HOP_BY_HOP.has(name) || named?.has(name)) && !keep.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The field names a Connection header lists, lower-cased; undefined when it lists only keep-alive, close or nothing. */
function connectionNames(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "string" ? value : value.join(",");
  const lower = text.toLowerCase();
  if (lower === "keep-alive" || lower === "close" || lower === "") return undefined;
  const names = new Set<string>();
  for (const token of lower.split(",")) names.add(token.trim());
  return names;
}
