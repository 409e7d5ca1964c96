/**
 * A parsed request head as the proxy's decisions see it (ProxyRequest):
 * the method, the target and only the fields they read, as strings.
 * @module
 */
import type { Socket } from "node:net";
import { F } from "./http1/fields.ts";
import type { RequestHead } from "./http1/request-head.ts";
import type { ProxyRequest } from "./types.ts";

/** The field names the proxy reads, by field id; others stay bytes. */
const READ: (string | undefined)[] = [];
READ[F.HOST] = "host";
READ[F.PROXY_AUTHORIZATION] = "proxy-authorization";
READ[F.X_PETIT_TOKEN] = "x-petit-token";
READ[F.X_FORWARDED_FOR] = "x-forwarded-for";
READ[F.X_FORWARDED_PROTO] = "x-forwarded-proto";
READ[F.X_FORWARDED_HOST] = "x-forwarded-host";
READ[F.USER_AGENT] = "user-agent";
READ[F.UPGRADE] = "upgrade";
READ[F.EXPECT] = "expect";

/** Fields whose repeats are one list (RFC 9110 §5.3); of the others, the first counts (as node:http does). */
const LISTS = new Set<string>(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-petit-token", "expect", "upgrade"]);

/** Returns the request `head` (parsed from `buf`) names, with the fields the proxy reads. */
export function readRequest(buf: Buffer, head: RequestHead, socket: Socket): ProxyRequest {
  const headers: Record<string, string> = {};
  const { fields } = head;
  for (let i = 0; i < fields.count; i++) {
    const name = READ[fields.ids[i]];
    if (name === undefined) continue;
    const prior = headers[name];
    if (prior === undefined) headers[name] = fields.value(buf, i);
    else if (LISTS.has(name)) headers[name] = `${prior}, ${fields.value(buf, i)}`;
  }
  return { method: head.method, url: head.target, headers, socket, buf, head };
}

/**
 * Returns the value of field `id` (F.COOKIE, F.ACCEPT: what browser sign-in
 * reads) of `req`, repeats joined by `separator`, read from its head's bytes
 * now: requests that never need them never pay for the string. Only while
 * `req` is being decided on, synchronously after readRequest (the head is
 * reused for the next request); undefined without the field or the head.
 */
export function lazyField(req: ProxyRequest, id: number, separator = ", "): string | undefined {
  const { buf, head } = req;
  if (buf === undefined || head === undefined) return undefined;
  const { fields } = head;
  let value: string | undefined;
  for (let i = 0; i < fields.count; i++) {
    if (fields.ids[i] !== id) continue;
    value = value === undefined ? fields.value(buf, i) : `${value}${separator}${fields.value(buf, i)}`;
  }
  return value;
}
