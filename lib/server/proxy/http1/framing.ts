/**
 * Message framing and connection options from a head's field lines
 * (RFC 9112 §6, §9.6): one Content-Length of digits only, never with
 * Transfer-Encoding, chunked as the final coding, and what Connection names.
 * @module
 */
import { F, type FieldLines } from "./fields.ts";
import { HeadError } from "./head-error.ts";

/** The longest Content-Length petit reads: 15 digits stay exact in a double. */
const MAX_LENGTH_DIGITS = 15;

/** What a head says about its body and its connection. */
export class Framing {
  /** The body's length; -1 when no Content-Length was sent. */
  contentLength = -1;
  /** Transfer-Encoding is present and chunked is its final coding. */
  chunked = false;
  /** Transfer-Encoding is present and chunked is not its final coding (a response: read until close). */
  otherCoding = false;
  /** Connection lists close, keep-alive or upgrade. */
  close = false;
  keepAlive = false;
  upgrade = false;
  /** Other field names Connection lists (lower-case), to drop as hop-by-hop (RFC 9110 §7.6.1). */
  named: string[] | undefined;
}

/**
 * Reads framing and Connection options from `fields` of `buf` into `out`.
 * Throws a HeadError for more than one Content-Length, a Content-Length
 * that is not 1*DIGIT, Transfer-Encoding with Content-Length or (in a
 * request) without chunked last, and chunked anywhere but last.
 */
export function readFraming(buf: Buffer, fields: FieldLines, out: Framing, request: boolean): void {
  out.contentLength = -1;
  out.chunked = out.otherCoding = out.close = out.keepAlive = out.upgrade = false;
  out.named = undefined;
  let lengths = 0;
  let codings = 0;
  for (let i = 0; i < fields.count; i++) {
    const id = fields.ids[i];
    if (id === F.CONTENT_LENGTH) {
      if (++lengths > 1) throw new HeadError(400, "HPE_UNEXPECTED_CONTENT_LENGTH", "more than one Content-Length (RFC 9112 §6.3)");
      out.contentLength = readLength(buf, fields.spans[i * 4 + 2], fields.spans[i * 4 + 3]);
    } else if (id === F.TRANSFER_ENCODING) {
      codings++;
      if (out.chunked) throw new HeadError(400, "HPE_INVALID_TRANSFER_ENCODING", "chunked must be the final transfer coding, applied once (RFC 9112 §6.1)");
      readCodings(fields.value(buf, i), out);
    } else if (id === F.CONNECTION) {
      readConnection(fields.value(buf, i), out);
    }
  }
  out.otherCoding = codings > 0 && !out.chunked;
  if (codings > 0 && lengths > 0) {
    throw new HeadError(400, "HPE_UNEXPECTED_CONTENT_LENGTH", "Content-Length together with Transfer-Encoding (RFC 9112 §6.1)");
  }
  if (request && codings > 0 && !out.chunked) {
    throw new HeadError(400, "HPE_INVALID_TRANSFER_ENCODING", "a request's Transfer-Encoding must end with chunked (RFC 9112 §6.3)");
  }
}

function readLength(buf: Buffer, start: number, end: number): number {
  if (start === end || end - start > MAX_LENGTH_DIGITS) {
    throw new HeadError(400, "HPE_INVALID_CONTENT_LENGTH", `Content-Length must be 1 to ${MAX_LENGTH_DIGITS} digits (RFC 9112 §6.2)`);
  }
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) throw new HeadError(400, "HPE_INVALID_CONTENT_LENGTH", "Content-Length must be digits only (RFC 9112 §6.2)");
    n = n * 10 + d;
  }
  return n;
}

/** transfer-coding list: tokens, comma-separated; chunked only as the last one, and never with parameters. */
function readCodings(value: string, out: Framing): void {
  for (const part of value.split(",")) {
    const coding = part.trim().toLowerCase();
    if (coding === "") continue;
    if (out.chunked) throw new HeadError(400, "HPE_INVALID_TRANSFER_ENCODING", "chunked must be the final transfer coding, applied once (RFC 9112 §6.1)");
    if (coding === "chunked") out.chunked = true;
    else if (!/^[!#$%&'*+.^_`|~0-9a-z-]+(?:\s*;.*)?$/.test(coding) || coding.startsWith("chunked")) {
      throw new HeadError(400, "HPE_INVALID_TRANSFER_ENCODING", "a transfer coding must be a token (RFC 9112 §7)");
    }
  }
}

function readConnection(value: string, out: Framing): void {
  const lower = value.toLowerCase();
  if (lower === "keep-alive") return void (out.keepAlive = true);
  if (lower === "close") return void (out.close = true);
  for (const part of lower.split(",")) {
    const option = part.trim();
    if (option === "close") out.close = true;
    else if (option === "keep-alive") out.keepAlive = true;
    else if (option === "upgrade") out.upgrade = true;
    else if (option !== "") (out.named ??= []).push(option);
  }
}
