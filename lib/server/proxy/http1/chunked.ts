/**
 * The chunked transfer coding (RFC 9112 §7.1), scanned rather than decoded:
 * the proxy passes a chunked body on byte for byte and only needs to know
 * where it ends, and that its framing is sound (so nothing can be smuggled
 * after it). A visitor on HTTP/1.0 gets the chunk data alone (`onData`).
 * @module
 */
import { TCHAR, VALUE_CHAR } from "./fields.ts";
import { HeadError } from "./head-error.ts";

/** The longest chunk-size line (size and extensions) and the longest trailer section petit reads. */
export const MAX_CHUNK_LINE = 4_096;
export const MAX_TRAILER_BYTES = 16_384;

const enum S { SizeFirst, Size, SizeSpace, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, FinalLf, Done }

/** Called with each span of chunk data, when decoding. */
export type OnChunkData = (buf: Buffer, start: number, end: number) => void;

function fail(rule: string): never {
  throw new HeadError(400, "HPE_INVALID_CHUNK_SIZE", `${rule} (RFC 9112 §7.1)`);
}

/** Scans one chunked body, fed in pieces. */
export class ChunkScanner {
  #state = S.SizeFirst;
  #remaining = 0;
  #line = 0;
  #trailer = 0;

  /** Makes the scanner ready for the next body. */
  reset(): void {
    this.#state = S.SizeFirst;
    this.#remaining = this.#line = this.#trailer = 0;
  }

  /**
   * Scans buf[start, end). Returns the offset right after the body's last
   * CRLF when the body ends in this piece, else -1. Throws a HeadError when
   * the framing is broken: a size that is not hex, bare CR or LF, data not
   * followed by CRLF, a control byte in an extension or trailer, a line or
   * trailer section over its limit.
   */
  scan(buf: Buffer, start: number, end: number, onData?: OnChunkData): number {
    let pos = start;
    while (pos < end) {
      const c = buf[pos];
      switch (this.#state) {
        case S.Data: {
          const take = Math.min(this.#remaining, end - pos);
          if (onData) onData(buf, pos, pos + take);
          this.#remaining -= take;
          pos += take;
          if (this.#remaining === 0) this.#state = S.DataCr;
          continue;
        }
        case S.SizeFirst:
        case S.Size: {
          const d = hex(c);
          if (d >= 0) {
            this.#remaining = this.#remaining * 16 + d;
            if (this.#remaining > Number.MAX_SAFE_INTEGER / 16) fail("a chunk size is too large");
            this.#state = S.Size;
          } else if (this.#state === S.SizeFirst) fail("a chunk must begin with its size in hex digits");
          else if (c === 13) this.#state = S.SizeLf;
          else if (c === 59 /* ";" */) this.#state = S.Ext;
          else if (c === 32 || c === 9) this.#state = S.SizeSpace;
          else fail("a chunk size must be hex digits");
          break;
        }
        case S.SizeSpace:
          if (c === 59) this.#state = S.Ext;
          else if (c !== 32 && c !== 9) fail("only a chunk extension may follow whitespace after a chunk size");
          break;
        case S.Ext:
          if (c === 13) this.#state = S.SizeLf;
          else if (VALUE_CHAR[c] !== 1) fail("a chunk extension must not hold a control byte");
          break;
        case S.SizeLf:
          if (c !== 10) fail("a chunk-size line must end with CRLF");
          this.#line = 0;
          this.#state = this.#remaining === 0 ? S.TrailerStart : S.Data;
          pos++;
          continue;
        case S.DataCr:
          if (c !== 13) fail("chunk data must be followed by CRLF");
          this.#state = S.DataLf;
          break;
        case S.DataLf:
          if (c !== 10) fail("chunk data must be followed by CRLF");
          this.#state = S.SizeFirst;
          pos++;
          continue;
        case S.TrailerStart:
          if (c === 13) this.#state = S.FinalLf;
          else if (TCHAR[c] === 1) this.#state = S.TrailerLine;
          else fail("a trailer field must begin with its name");
          break;
        case S.TrailerLine:
          if (c === 13) this.#state = S.TrailerLf;
          else if (VALUE_CHAR[c] !== 1) fail("a trailer field must not hold a control byte");
          break;
        case S.TrailerLf:
          if (c !== 10) fail("a trailer field must end with CRLF");
          this.#state = S.TrailerStart;
          break;
        case S.FinalLf:
          if (c !== 10) fail("the chunked body must end with CRLF");
          this.#state = S.Done;
          return pos + 1;
        default:
          fail("bytes after the end of a chunked body");
      }
      pos++;
      if (this.#state === S.TrailerLine || this.#state === S.TrailerLf || this.#state === S.TrailerStart || this.#state === S.FinalLf) {
        if (++this.#trailer > MAX_TRAILER_BYTES) fail(`the trailer section is longer than ${MAX_TRAILER_BYTES} bytes`);
      } else if (++this.#line > MAX_CHUNK_LINE) fail(`a chunk-size line is longer than ${MAX_CHUNK_LINE} bytes`);
    }
    return -1;
  }
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
