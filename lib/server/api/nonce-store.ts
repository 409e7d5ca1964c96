/**
 * The nonces of signed requests the relay has accepted, kept on disk until
 * they expire, so a request captured on the wire cannot be replayed — not
 * even right after a restart of petit-serverd. The file is a log: one
 * appended line per accepted nonce ("NONCE EXPIRES_MS"), compacted at start
 * and whenever most of it has expired, so each request costs one small
 * append, not a rewrite of every nonce.
 * @module
 */
import { appendFileSync } from "node:fs";
import { readFileIfExists, writeFileAtomic } from "../../fs-atomic.ts";
import { MemoryNonces } from "../../proof.ts";

/** The most nonces kept: a flood of valid requests cannot grow memory or the file without bound. */
const MAX_NONCES = 100_000;
/** The log is compacted once it holds this many lines more than the nonces still live. */
const COMPACT_SLACK = 10_000;

/** A NonceSet whose nonces are appended to `file`; a missing or unreadable file starts empty. */
export class NonceFile extends MemoryNonces {
  #lines = 0;

  constructor(private readonly file: string, now = Date.now()) {
    super();
    // Lines written by this class only; anything else in the file (a torn last line, an edit) is skipped.
    for (const line of (readFileIfExists(file) ?? "").split("\n")) {
      const match = /^([0-9a-f]{32}) (\d{1,16})$/.exec(line);
      if (match && Number(match[2]) >= now) this.seen.set(match[1], Number(match[2]));
    }
    this.#compact();
  }

  /** Records `nonce` until `expires`; false when it was already recorded (a replay). */
  override use(nonce: string, expires: number, now = Date.now()): boolean {
    if (!super.use(nonce, expires, now)) return false;
    if (this.seen.size > MAX_NONCES) {
      this.seen.delete(nonce);
      throw Object.assign(new Error("too many signed requests in the last minutes; retry later"), { status: 503 });
    }
    this.#write(() => {
      if (this.#lines - this.seen.size > COMPACT_SLACK) return this.#compact();
      appendFileSync(this.file, `${nonce} ${expires}\n`, { mode: 0o600 });
      this.#lines++;
    });
    return true;
  }

  /** Rewrites the file with the live nonces only. */
  #compact(): void {
    this.#write(() => {
      writeFileAtomic(this.file, [...this.seen].map(([n, e]) => `${n} ${e}\n`).join(""), 0o600);
      this.#lines = this.seen.size;
    });
  }

  #write(action: () => void): void {
    try {
      action();
    } catch (error) {
      // A full disk must not stop registrations here (the registry answers 507 for that itself): the nonce stays
      // remembered in memory, so only a restart before it expires could forget it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOSPC" && code !== "EDQUOT") throw error;
    }
  }
}
