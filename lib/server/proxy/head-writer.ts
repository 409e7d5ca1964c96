/**
 * Builds a head (request or response) as bytes: text and spans of the
 * received head are copied into one scratch buffer, and one Buffer of the
 * exact size comes out, ready for a single socket write.
 * @module
 */

/** The scratch size: the largest head petit writes, plus the body bytes that may ride along in the same write. */
const SCRATCH_BYTES = 160 * 1024;

/** A reusable head builder; one per proxy (heads are built synchronously, so one scratch is enough). */
export class HeadWriter {
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #pos = 0;

  /** Starts a new head. */
  begin(): this {
    this.#pos = 0;
    return this;
  }

  /** Appends latin1 text. */
  text(value: string): this {
    this.#pos += this.#scratch.write(value, this.#pos, "latin1");
    return this;
  }

  /** Appends buf[start, end). */
  span(buf: Buffer, start: number, end: number): this {
    this.#pos += buf.copy(this.#scratch, this.#pos, start, end);
    return this;
  }

  /** Appends a field line "name: value\r\n" from the spans of a parsed one. */
  line(buf: Buffer, nameStart: number, valueEnd: number): this {
    this.#pos += buf.copy(this.#scratch, this.#pos, nameStart, valueEnd);
    this.#scratch[this.#pos++] = 13;
    this.#scratch[this.#pos++] = 10;
    return this;
  }

  /** Room left: what may still be appended. */
  room(): number {
    return SCRATCH_BYTES - this.#pos;
  }

  /** Returns a copy of what was written. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.#pos);
    this.#scratch.copy(out, 0, 0, this.#pos);
    return out;
  }
}
