/**
 * The heads the proxy writes: a visitor's request head as the service gets
 * it (hop-by-hop fields, those Connection names and the visitor's own
 * X-Forwarded-For, -Proto, -Host, Forwarded and X-Real-IP dropped; petit's set; petit's sign-in
 * cookie taken out of Cookie), and the service's
 * response head as the visitor gets it (hop-by-hop fields dropped, framing
 * and Connection petit's own). Field lines that stay are copied as bytes.
 * @module
 */
import { clientAddress, inList, peerAddress } from "../../http/client-address.ts";
import { F, type FieldLines } from "./http1/fields.ts";
import type { RequestHead } from "./http1/request-head.ts";
import type { ResponseHead } from "./http1/response-head.ts";
import type { HeadWriter } from "./head-writer.ts";
import { COOKIE_NAME, withoutPetitCookie } from "./sign-in/cookie.ts";
import type { ProxyOptions, ProxyRequest } from "./types.ts";

/** Fields of a request that stop at the proxy (RFC 9110 §7.6.1, petit's token) or that petit sets itself. */
const REQUEST_DROP = new Uint8Array(32);
for (const id of [F.HOST, F.CONNECTION, F.UPGRADE, F.EXPECT, F.PROXY_AUTHORIZATION, F.X_PETIT_TOKEN, F.X_FORWARDED_FOR,
  F.X_FORWARDED_PROTO, F.X_FORWARDED_HOST, F.X_REAL_IP, F.FORWARDED, F.KEEP_ALIVE, F.PROXY_CONNECTION, F.TE, F.TRAILER,
  F.PROXY_AUTHENTICATE]) REQUEST_DROP[id] = 1;

/** Fields of a response that describe the service's hop only. */
const RESPONSE_DROP = new Uint8Array(32);
for (const id of [F.CONNECTION, F.UPGRADE, F.EXPECT, F.PROXY_AUTHORIZATION, F.X_PETIT_TOKEN, F.KEEP_ALIVE,
  F.PROXY_CONNECTION, F.TE, F.TRAILER, F.PROXY_AUTHENTICATE, F.TRANSFER_ENCODING]) RESPONSE_DROP[id] = 1;

/**
 * Tells whether Connection named field `i` (RFC 9110 §7.6.1). Framing
 * fields are never dropped this way: the body that follows was framed by them.
 */
function namedByConnection(buf: Buffer, fields: FieldLines, i: number, named: string[] | undefined): boolean {
  if (named === undefined) return false;
  const id = fields.ids[i];
  if (id === F.CONTENT_LENGTH || id === F.TRANSFER_ENCODING || id === F.HOST) return false;
  return named.includes(fields.name(buf, i));
}

/**
 * Writes the head the service gets for `req` (parsed as `head` from `buf`):
 * origin-form target, Host (the authority of an absolute-form target), the
 * visitor's end-to-end fields as sent, its framing, and X-Forwarded-For,
 * X-Real-IP, X-Forwarded-Proto and -Host. `upgrade`: Upgrade is passed on
 * with "Connection: Upgrade".
 */
export function writeRequestHead(
  w: HeadWriter, buf: Buffer, head: RequestHead, req: ProxyRequest, options: ProxyOptions, upgrade: boolean,
): Buffer {
  const { fields } = head;
  const host = req.headers.host ?? "";
  w.begin().text(`${req.method} ${req.url} HTTP/1.1\r\nhost: ${host}\r\n`);
  const named = head.framing.named;
  for (let i = 0; i < fields.count; i++) {
    const id = fields.ids[i];
    if (REQUEST_DROP[id] === 1 && !(upgrade && id === F.UPGRADE)) continue;
    if (namedByConnection(buf, fields, i, named)) continue;
    // petit's sign-in cookie stops here, like the token: the service never sees petit's credentials. Other cookies go on.
    if (id === F.COOKIE && holdsPetitCookie(buf, fields.spans[i * 4 + 2], fields.spans[i * 4 + 3])) {
      const others = withoutPetitCookie(fields.value(buf, i));
      if (others !== "") w.text(`cookie: ${others}\r\n`);
      continue;
    }
    w.line(buf, fields.spans[i * 4], fields.spans[i * 4 + 3]);
  }
  if (upgrade) w.text("connection: Upgrade\r\n");
  // Only a trusted load balancer's X-Forwarded-* are believed; anyone else's are replaced. Behind PROXY protocol
  // the peer is the visitor the balancer named, whose own X-Forwarded-* are not believed either.
  const peer = peerAddress(req.socket);
  const trusted = inList(options.trustedProxies, peer);
  const h = req.headers;
  const prior = trusted ? h["x-forwarded-for"] : undefined;
  const proto = options.tls ? "https" : "http";
  w.text(`x-forwarded-for: ${prior ? `${prior}, ${peer}` : peer}\r\nx-real-ip: ${clientAddress(req, options.trustedProxies)}\r\n`);
  w.text(`x-forwarded-proto: ${trusted ? String(h["x-forwarded-proto"] ?? proto) : proto}\r\n`);
  w.text(`x-forwarded-host: ${trusted ? String(h["x-forwarded-host"] ?? host) : host}\r\n\r\n`);
  return w.take();
}

/** petit's cookie name as bytes, to look for it in a Cookie line without making a string of the line. */
const COOKIE_BYTES = Buffer.from(COOKIE_NAME, "latin1");

/** Tells whether buf[start, end) (a Cookie value) holds petit's cookie name. */
function holdsPetitCookie(buf: Buffer, start: number, end: number): boolean {
  const first = COOKIE_BYTES[0];
  outer: for (let j = start; j <= end - COOKIE_BYTES.length; j++) {
    if (buf[j] !== first) continue;
    for (let k = 1; k < COOKIE_BYTES.length; k++) if (buf[j + k] !== COOKIE_BYTES[k]) continue outer;
    return true;
  }
  return false;
}

/** The most body bytes copied to ride along with a head; more go in a write of their own (one writev with the head). */
const CARRY_BYTES = 16_384;

/** How the visitor gets a response's body. */
export interface ResponseOut {
  /** The body is passed on chunked (the service sent it chunked and the visitor speaks HTTP/1.1). */
  chunked: boolean;
  /** The connection closes after this response. */
  close: boolean;
  /** A 101: Upgrade and Connection go on to the visitor. */
  upgraded: boolean;
}

/**
 * Writes the head the visitor gets for the service's `head` (in `buf`), and
 * up to `bodyEnd - bodyStart` body bytes after it in the same buffer when
 * they fit, so a small answer leaves in one write. Returns the buffer and
 * how many body bytes it carries.
 */
export function writeResponseHead(
  w: HeadWriter, buf: Buffer, head: ResponseHead, out: ResponseOut, bodyStart: number, bodyEnd: number,
): [Buffer, number] {
  const { fields } = head;
  w.begin().text("HTTP/1.1 ").span(buf, head.statusStart, head.lineEnd).text("\r\n");
  const named = out.upgraded ? undefined : head.framing.named;
  for (let i = 0; i < fields.count; i++) {
    const id = fields.ids[i];
    if (RESPONSE_DROP[id] === 1 && !(out.upgraded && (id === F.UPGRADE || id === F.CONNECTION))) continue;
    if (namedByConnection(buf, fields, i, named)) continue;
    w.line(buf, fields.spans[i * 4], fields.spans[i * 4 + 3]);
  }
  if (out.chunked) w.text("transfer-encoding: chunked\r\n");
  if (out.close) w.text("connection: close\r\n");
  w.text("\r\n");
  const carried = bodyEnd - bodyStart <= Math.min(CARRY_BYTES, w.room()) ? bodyEnd - bodyStart : 0;
  if (carried > 0) w.span(buf, bodyStart, bodyStart + carried);
  return [w.take(), carried];
}
