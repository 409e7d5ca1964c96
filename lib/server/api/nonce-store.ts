/**
 * The nonces of signed requests the relay has accepted, kept on disk until
 * they expire, so a request captured on the wire cannot be replayed — not
 * even right after a restart of petit-serverd.
 * @module
 */
import { readFileIfExists, writeFileAtomic } from "../../fs-atomic.ts";
import { MemoryNonces } from "../../proof.ts";

/** The most nonces kept: a flood of valid requests cannot grow the file without bound. */
const MAX_NONCES = 100_000;

/** A NonceSet saved to `file` at every change; a missing or unreadable file starts empty. */
export class NonceFile extends MemoryNonces {
  constructor(private readonly file: string, now = Date.now()) {
    super();
    const text = readFileIfExists(file);
    let data: unknown;
    try {
      data = text === undefined ? {} : JSON.parse(text);
    } catch {
      data = {}; // a torn or edited file only loses replay memory older than this start; never refuse to start over it
    }
    if (data && typeof data === "object" && !Array.isArray(data)) {
      for (const [nonce, expires] of Object.entries(data)) {
        if (/^[0-9a-f]{32}$/.test(nonce) && typeof expires === "number" && expires > now) this.seen.set(nonce, expires);
      }
    }
  }

  /** Records `nonce` until `expires`; false when it was already recorded (a replay). */
  override use(nonce: string, expires: number, now = Date.now()): boolean {
    if (this.seen.size >= MAX_NONCES) throw Object.assign(new Error("too many signed requests in the last minutes; retry later"), { status: 503 });
    if (!super.use(nonce, expires, now)) return false;
    try {
      writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.seen)) + "\n", 0o600);
    } catch (error) {
      // A full disk must not stop registrations here (the registry answers 507 for that itself): the nonce stays
      // remembered in memory, so only a restart before it expires could forget it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOSPC" && code !== "EDQUOT") throw error;
    }
    return true;
  }
}
