/**
 * HTTP/1.1 field lines (RFC 9112 §5), read in one pass over the bytes of a
 * head that a visitor or a service wrote: each line's name and value are kept
 * as offsets into the buffer, and only the fields the proxy acts on get an
 * id (no string is made for the others). Every refusal names its rule.
 * @module
 */
import { HeadError } from "./head-error.ts";

/** Field ids: the fields the proxy reads or drops; 0 is any other field, passed on as its own bytes. */
export const F = {
  OTHER: 0, HOST: 1, CONTENT_LENGTH: 2, TRANSFER_ENCODING: 3, CONNECTION: 4, UPGRADE: 5, EXPECT: 6,
  PROXY_AUTHORIZATION: 7, X_PETIT_TOKEN: 8, X_FORWARDED_FOR: 9, X_FORWARDED_PROTO: 10, X_FORWARDED_HOST: 11,
  X_REAL_IP: 12, FORWARDED: 13, KEEP_ALIVE: 14, PROXY_CONNECTION: 15, TE: 16, TRAILER: 17, USER_AGENT: 18,
  PROXY_AUTHENTICATE: 19, COOKIE: 20, ACCEPT: 21,
} as const;

const NAMES: [string, number][] = [
  ["host", F.HOST], ["content-length", F.CONTENT_LENGTH], ["transfer-encoding", F.TRANSFER_ENCODING],
  ["connection", F.CONNECTION], ["upgrade", F.UPGRADE], ["expect", F.EXPECT], ["proxy-authorization", F.PROXY_AUTHORIZATION],
  ["x-petit-token", F.X_PETIT_TOKEN], ["x-forwarded-for", F.X_FORWARDED_FOR], ["x-forwarded-proto", F.X_FORWARDED_PROTO],
  ["x-forwarded-host", F.X_FORWARDED_HOST], ["x-real-ip", F.X_REAL_IP], ["forwarded", F.FORWARDED], ["keep-alive", F.KEEP_ALIVE],
  ["proxy-connection", F.PROXY_CONNECTION], ["te", F.TE], ["trailer", F.TRAILER], ["user-agent", F.USER_AGENT],
  ["proxy-authenticate", F.PROXY_AUTHENTICATE], ["cookie", F.COOKIE], ["accept", F.ACCEPT],
];

/** Known names by length, as lower-case bytes. */
const BY_LENGTH: [Buffer, number][][] = [];
for (const [name, id] of NAMES) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, "latin1"), id]);

/** tchar (RFC 9110 §5.6.2): the bytes of a token, such as a field name or a method. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Bytes allowed in a field value (RFC 9110 §5.5): VCHAR, obs-text, SP and HTAB; no other control byte. */
export const VALUE_CHAR = new Uint8Array(256).fill(1);
for (let c = 0; c < 32; c++) VALUE_CHAR[c] = 0;
VALUE_CHAR[9] = 1;
VALUE_CHAR[127] = 0;

/** Field lines of one head: per line an id and four offsets (name start/end, value start/end, OWS trimmed). */
export class FieldLines {
  count = 0;
  readonly ids: Uint8Array;
  readonly spans: Int32Array;

  constructor(readonly max: number) {
    this.ids = new Uint8Array(max);
    this.spans = new Int32Array(max * 4);
  }

  /** The value of line `i` as text (latin1: obs-text bytes stay one character each). */
  value(buf: Buffer, i: number): string {
    return buf.toString("latin1", this.spans[i * 4 + 2], this.spans[i * 4 + 3]);
  }

  /** The name of line `i`, lower-cased. */
  name(buf: Buffer, i: number): string {
    return buf.toString("latin1", this.spans[i * 4], this.spans[i * 4 + 1]).toLowerCase();
  }
}

/** Returns the id of the field name buf[start, end) (case-insensitive), or F.OTHER. */
export function fieldId(buf: Buffer, start: number, end: number): number {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return F.OTHER;
  outer: for (const [name, id] of candidates) {
    for (let i = 0; i < name.length; i++) if ((buf[start + i] | 0x20) !== name[i]) continue outer;
    return id;
  }
  return F.OTHER;
}

/**
 * Reads field lines from `pos` up to and including the empty line that ends
 * them, into `out`. Returns the offset after that empty line, or -1 when
 * `end` comes first (more bytes needed). Throws a HeadError for a line that
 * breaks RFC 9112 §5: bare LF or CR, obs-fold, whitespace before the colon,
 * a name that is not a token, a control byte in a value, more than `out.max` lines.
 */
export function parseFieldLines(buf: Buffer, pos: number, end: number, out: FieldLines): number {
  out.count = 0;
  while (pos < end) {
    let c = buf[pos];
    if (c === 13) {
      if (pos + 1 >= end) return -1;
      if (buf[pos + 1] !== 10) throw new HeadError(400, "HPE_LF_EXPECTED", "a bare CR is not a line ending (RFC 9112 §2.2)");
      return pos + 2;
    }
    if (c === 10) throw new HeadError(400, "HPE_CR_EXPECTED", "a bare LF is not a line ending (RFC 9112 §2.2)");
    if (c === 32 || c === 9) throw new HeadError(400, "HPE_INVALID_HEADER_TOKEN", "obs-fold (a line beginning with whitespace) is not accepted (RFC 9112 §5.2)");
    const nameStart = pos;
    while (pos < end && TCHAR[(c = buf[pos])] === 1) pos++;
    if (pos >= end) return -1;
    if (c !== 58 /* ":" */ || pos === nameStart) {
      throw new HeadError(400, "HPE_INVALID_HEADER_TOKEN", "a field name must be a token followed at once by a colon (RFC 9112 §5.1)");
    }
    const nameEnd = pos++;
    while (pos < end && ((c = buf[pos]) === 32 || c === 9)) pos++;
    const valueStart = pos;
    let valueEnd = pos;
    while (pos < end && VALUE_CHAR[(c = buf[pos])] === 1) {
      pos++;
      if (c !== 32 && c !== 9) valueEnd = pos;
    }
    if (pos + 1 >= end) return -1;
    if (c !== 13) throw new HeadError(400, "HPE_INVALID_HEADER_TOKEN", c === 10 ? "a bare LF is not a line ending (RFC 9112 §2.2)" : "a field value must not hold a control byte (RFC 9110 §5.5)");
    if (buf[pos + 1] !== 10) throw new HeadError(400, "HPE_LF_EXPECTED", "a bare CR is not a line ending (RFC 9112 §2.2)");
    pos += 2;
    if (out.count === out.max) throw new HeadError(431, "HPE_HEADER_OVERFLOW", `more than ${out.max} field lines (RFC 6585 §5)`);
    const k = out.count++;
    out.ids[k] = fieldId(buf, nameStart, nameEnd);
    const s = k * 4;
    out.spans[s] = nameStart;
    out.spans[s + 1] = nameEnd;
    out.spans[s + 2] = valueStart;
    out.spans[s + 3] = valueEnd;
  }
  return -1;
}
