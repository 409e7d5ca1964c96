/**
 * A strict, allocation-light parser of HTTP/1.1 request heads (RFC 9112 §2,
 * §3, §5), modelled on picohttpparser: one pass over the visitor's bytes,
 * offsets instead of strings, a hard bound on every length. Only the method,
 * the target and the few fields the proxy acts on become strings.
 * @module
 */
import { F, FieldLines, parseFieldLines, TCHAR } from "./fields.ts";
import { Framing, readFraming } from "./framing.ts";
import { HeadError } from "./head-error.ts";

/** The longest request head petit reads (node's default maxHeaderSize is 16 KiB too). */
export const MAX_HEAD_BYTES = 16_384;
/** The most field lines a request head may have. */
export const MAX_FIELDS = 100;
/** Empty lines ignored before a request-line (RFC 9112 §2.2 asks for at least one). */
const MAX_LEADING_EMPTY_LINES = 4;

/** A parsed request head; reused from request to request on one connection. */
export class RequestHead {
  method = "";
  target = "";
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor = 1;
  /** Where the head starts (after ignored empty lines) and its length in bytes, final CRLF included. */
  start = 0;
  length = 0;
  /** The field line of Host, or -1. */
  host = -1;
  readonly fields = new FieldLines(MAX_FIELDS);
  readonly framing = new Framing();

  /** Host's value, or undefined without one. */
  hostValue(buf: Buffer): string | undefined {
    return this.host < 0 ? undefined : this.fields.value(buf, this.host);
  }
}

/**
 * Parses the request head at buf[start, end) into `head`. Returns the
 * offset after the head, or -1 when more bytes are needed. Throws a
 * HeadError naming the rule a head breaks; a head not whole within
 * MAX_HEAD_BYTES is refused with 431.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, head: RequestHead): number {
  let pos = start;
  for (let n = 0; pos < end && buf[pos] === 13; n++) {
    if (n === MAX_LEADING_EMPTY_LINES) throw new HeadError(400, "HPE_INVALID_METHOD", "too many empty lines before the request-line (RFC 9112 §2.2)");
    if (pos + 1 >= end) return more(start, end);
    if (buf[pos + 1] !== 10) throw new HeadError(400, "HPE_LF_EXPECTED", "a bare CR is not a line ending (RFC 9112 §2.2)");
    pos += 2;
  }
  head.start = pos;
  // method SP request-target SP HTTP-version CRLF (RFC 9112 §3)
  const methodStart = pos;
  while (pos < end && TCHAR[buf[pos]] === 1) pos++;
  if (pos >= end) return more(start, end);
  if (buf[pos] !== 32 || pos === methodStart) throw new HeadError(400, "HPE_INVALID_METHOD", "the method must be a token followed by one space (RFC 9112 §3)");
  const methodEnd = pos++;
  const targetStart = pos;
  // request-target: visible US-ASCII only; no whitespace, control byte or obs-text (RFC 9112 §3.2, RFC 3986).
  while (pos < end && buf[pos] > 32 && buf[pos] < 127) pos++;
  if (pos >= end) return more(start, end);
  if (buf[pos] !== 32 || pos === targetStart) throw new HeadError(400, "HPE_INVALID_URL", "the request-target must be visible ASCII followed by one space (RFC 9112 §3.2)");
  const targetEnd = pos++;
  if (end - pos < 10) return more(start, end);
  head.minor = readVersion(buf, pos);
  pos += 8;
  if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw new HeadError(400, "HPE_CR_EXPECTED", "the request-line must end with CRLF right after the version (RFC 9112 §3)");
  pos = parseFieldLines(buf, pos + 2, Math.min(end, start + MAX_HEAD_BYTES), head.fields);
  if (pos < 0) return more(start, end);
  head.method = buf.toString("latin1", methodStart, methodEnd);
  head.target = buf.toString("latin1", targetStart, targetEnd);
  head.length = pos - head.start;
  checkHost(head);
  readFraming(buf, head.fields, head.framing, true);
  if (head.minor === 0 && (head.framing.chunked || head.framing.otherCoding)) {
    throw new HeadError(400, "HPE_INVALID_TRANSFER_ENCODING", "an HTTP/1.0 request must not use Transfer-Encoding (RFC 9112 §6.1)");
  }
  return pos;
}

function more(start: number, end: number): number {
  if (end - start >= MAX_HEAD_BYTES) throw new HeadError(431, "HPE_HEADER_OVERFLOW", `the request head is longer than ${MAX_HEAD_BYTES} bytes`);
  return -1;
}

const VERSION_PREFIX = [72, 84, 84, 80, 47]; // "HTTP/"

/** HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); petit serves 1.0 and 1.1. */
function readVersion(buf: Buffer, pos: number): 0 | 1 {
  for (let i = 0; i < 5; i++) {
    if (buf[pos + i] !== VERSION_PREFIX[i]) throw new HeadError(400, "HPE_INVALID_VERSION", 'the version must be "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3)');
  }
  const major = buf[pos + 5] - 48;
  const minor = buf[pos + 7] - 48;
  if (major < 0 || major > 9 || buf[pos + 6] !== 46 || minor < 0 || minor > 9) {
    throw new HeadError(400, "HPE_INVALID_VERSION", 'the version must be "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3)');
  }
  // 400 rather than 505: a version petit does not serve is the visitor's error, and every refusal of a head is a 4xx.
  if (major !== 1 || minor > 1) throw new HeadError(400, "HPE_INVALID_VERSION", "petit serves HTTP/1.0 and HTTP/1.1 only (RFC 9112 §2.3)");
  return minor as 0 | 1;
}

/** RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; a request with more is refused whatever its version. */
function checkHost(head: RequestHead): void {
  head.host = -1;
  const { fields } = head;
  for (let i = 0; i < fields.count; i++) {
    if (fields.ids[i] !== F.HOST) continue;
    if (head.host >= 0) throw new HeadError(400, "HPE_DUPLICATE_HOST", "more than one Host header (RFC 9112 §3.2)");
    head.host = i;
  }
  if (head.host < 0 && head.minor === 1) throw new HeadError(400, "HPE_MISSING_HOST", "an HTTP/1.1 request must have a Host header (RFC 9112 §3.2)");
}
