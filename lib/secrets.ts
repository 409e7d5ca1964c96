/**
 * Random secrets (enrollment token, control-port secrets), stored 0600 and
 * refused when anyone but the owner could read them.
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { statSync } from "node:fs";
import { readFileIfExists, writeFileAtomic } from "./fs-atomic.ts";

/**
 * Returns a new random secret of 32 bytes, in hex: safe in URLs, headers and
 * shell words, and never starting with "-" (which a CLI would read as a flag).
 */
export function newSecret(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Reads the secret at `path`, creating it when missing.
 * Throws when the file is readable by group or others.
 */
export function ensureSecret(path: string): string {
  const existing = readSecret(path);
  if (existing) return existing;
  const secret = newSecret();
  writeFileAtomic(path, secret + "\n", 0o600);
  return secret;
}

/** Reads the secret at `path`, or undefined when the file does not exist. */
export function readSecret(path: string): string | undefined {
  const text = readFileIfExists(path);
  if (text === undefined) return undefined;
  checkPrivate(path);
  return text.trim();
}

/** Throws a fixable error when `path` is readable or writable by group or others. */
export function checkPrivate(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(
      `Refusing to use "${path}": its mode is ${mode.toString(8).padStart(4, "0")}, ` +
        `but a secret must be readable by its owner only (run: chmod 600 "${path}")`,
    );
  }
}

/** Compares two strings in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  // Only the length can leak, and every secret petit compares has a fixed length.
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
