/**
 * A parser of the HTTP/1.1 response heads a service sends back through its
 * tunnel (RFC 9112 §4): the service is another machine's program, so its
 * bytes get the same strict reading as a visitor's.
 * @module
 */
import { FieldLines, parseFieldLines } from "./fields.ts";
import { Framing, readFraming } from "./framing.ts";
import { HeadError } from "./head-error.ts";

/** The longest response head petit reads. */
export const MAX_RESPONSE_HEAD_BYTES = 65_536;
/** The most field lines a response head may have. */
const MAX_RESPONSE_FIELDS = 200;

const HTTP_1 = Buffer.from("HTTP/1.", "latin1");

/** A parsed response head; reused from response to response on one tunnel connection. */
export class ResponseHead {
  status = 0;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor = 1;
  /** Where the status code starts (the rest of the status-line is copied from there) and the status-line's end (before CRLF). */
  statusStart = 0;
  lineEnd = 0;
  length = 0;
  readonly fields = new FieldLines(MAX_RESPONSE_FIELDS);
  readonly framing = new Framing();
}

/**
 * Parses the response head at buf[start, end) into `head`; returns the
 * offset after it, or -1 when more bytes are needed. Throws a HeadError for
 * anything but `HTTP/1.x SP 3DIGIT SP reason CRLF` and strict field lines.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, head: ResponseHead): number {
  if (end - start < 13) return more(start, end);
  // "HTTP/1." DIGIT SP 3DIGIT SP (RFC 9112 §4); the reason-phrase may be empty but the space before it may not go.
  for (let i = 0; i < 7; i++) if (buf[start + i] !== HTTP_1[i]) bad();
  const minor = buf[start + 7] - 48;
  if ((minor !== 0 && minor !== 1) || buf[start + 8] !== 32) bad();
  let status = 0;
  for (let i = start + 9; i < start + 12; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) bad();
    status = status * 10 + d;
  }
  if (status < 100) bad();
  let pos = start + 12;
  if (buf[pos] !== 32 && buf[pos] !== 13) bad();
  while (pos < end && buf[pos] !== 13) {
    const c = buf[pos];
    if ((c < 32 && c !== 9) || c === 127) bad();
    pos++;
  }
  if (pos + 1 >= end) return more(start, end);
  if (buf[pos + 1] !== 10) bad();
  head.lineEnd = pos;
  const after = parseFieldLines(buf, pos + 2, Math.min(end, start + MAX_RESPONSE_HEAD_BYTES), head.fields);
  if (after < 0) return more(start, end);
  head.status = status;
  head.minor = minor;
  head.statusStart = start + 9;
  head.length = after - start;
  readFraming(buf, head.fields, head.framing, false);
  return after;
}

function bad(): never {
  throw new HeadError(400, "HPE_INVALID_STATUS", 'a status-line must be "HTTP/1.x" SP 3DIGIT SP reason CRLF (RFC 9112 §4)');
}

function more(start: number, end: number): number {
  if (end - start >= MAX_RESPONSE_HEAD_BYTES) throw new HeadError(431, "HPE_HEADER_OVERFLOW", `the response head is longer than ${MAX_RESPONSE_HEAD_BYTES} bytes`);
  return -1;
}
