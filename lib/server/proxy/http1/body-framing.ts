/**
 * Where a message body ends (RFC 9112 §6.3), found as its bytes pass: a
 * Content-Length counted down, chunked framing scanned (chunked.ts), or
 * the end of the connection. Nothing is decoded, except chunk data for a
 * visitor on HTTP/1.0 (`onData`).
 * @module
 */
import { ChunkScanner, type OnChunkData } from "./chunked.ts";

/** How a body is delimited. */
export const enum Delimit { None, Length, Chunked, UntilClose }

/** The framing of one body at a time; reused from message to message. */
export class BodyFraming {
  delimit = Delimit.None;
  /** The body has ended. */
  done = true;
  #left = 0;
  readonly #chunks = new ChunkScanner();

  /** Starts a body delimited by `delimit` (`length` bytes for Delimit.Length). */
  start(delimit: Delimit, length = 0): void {
    this.delimit = delimit;
    this.#left = length;
    this.done = delimit === Delimit.None || (delimit === Delimit.Length && length === 0);
    if (delimit === Delimit.Chunked) this.#chunks.reset();
  }

  /**
   * Takes the body's bytes from buf[start…]: returns the offset where they
   * stop in `buf` (its length while the body goes on past it) and sets
   * `done` when the body ended there. Throws a HeadError for broken chunked
   * framing.
   */
  take(buf: Buffer, start: number, onData?: OnChunkData): number {
    switch (this.delimit) {
      case Delimit.None:
        return start;
      case Delimit.Length: {
        const end = Math.min(buf.length, start + this.#left);
        this.#left -= end - start;
        if (this.#left === 0) this.done = true;
        return end;
      }
      case Delimit.Chunked: {
        const end = this.#chunks.scan(buf, start, buf.length, onData);
        if (end < 0) return buf.length;
        this.done = true;
        return end;
      }
      default:
        return buf.length;
    }
  }
}
