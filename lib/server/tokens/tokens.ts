/**
 * Enrollment tokens. The main token (server/enroll.token) never expires;
 * extra tokens ("<id>.<secret>") can expire, have a use count, and be
 * revoked. tokens.json is the only store and is read at each use. While the
 * relay runs it is the only writer (the CLI goes through its control port, so
 * no change is lost to a concurrent use); the CLI writes only when it is down.
 * @module
 */
import { randomBytes } from "node:crypto";
import { readFileIfExists, writeFileAtomic } from "../../fs-atomic.ts";
import { newSecret, readSecret } from "../../secrets.ts";

/** Id of the main token in proofs and listings. */
export const MAIN_TOKEN_ID = "main";

/** One extra token as stored. */
export interface TokenRecord {
  id: string;
  secret: string;
  label: string;
  created: string;
  expires: string | null;
  uses_left: number | null;
}

/** A token as listed (no secret). */
export type TokenInfo = Omit<TokenRecord, "secret"> & { valid: boolean };

/** Returns the id a token string names: the part before the dot, or the main token's. */
export function tokenId(token: string): string {
  const dot = token.indexOf(".");
  return dot > 0 ? token.slice(0, dot) : MAIN_TOKEN_ID;
}

/** The token store of one relay. */
export class TokenStore {
  constructor(private readonly files: { main: string; extra: string }) {}

  /** Returns the secret of a usable token `id` (not expired, uses left), or undefined. */
  lookup(id: string, now = Date.now()): string | undefined {
    if (id === MAIN_TOKEN_ID) return readSecret(this.files.main);
    const record = this.#read().find((t) => t.id === id);
    return record && usable(record, now) ? `${record.id}.${record.secret}` : undefined;
  }

  /** Creates a token; `expiresIn` in seconds, `uses` a count (both optional). Returns the token string. */
  create(options: { label?: string; expiresIn?: number; uses?: number }, now = Date.now()): { id: string; token: string } {
    const records = this.#read();
    const id = `t${Math.max(0, ...records.map((t) => Number(t.id.slice(1)) || 0)) + 1}`;
    const record: TokenRecord = {
      id, secret: randomBytes(24).toString("hex"), label: options.label ?? "",
      created: new Date(now).toISOString(),
      expires: options.expiresIn ? new Date(now + options.expiresIn * 1000).toISOString() : null,
      uses_left: options.uses ?? null,
    };
    this.#write([...records, record]);
    return { id, token: `${id}.${record.secret}` };
  }

  /** Lists every token without its secret, the main one first. */
  list(now = Date.now()): TokenInfo[] {
    const main: TokenInfo = { id: MAIN_TOKEN_ID, label: "main (petit server token)", created: "", expires: null, uses_left: null, valid: true };
    return [main, ...this.#read().map(({ secret: _, ...rest }) => ({ ...rest, valid: usable({ secret: "", ...rest }, now) }))];
  }

  /** Removes token `id`; returns false when there is none. The main token cannot be revoked (rotate it instead). */
  revoke(id: string): boolean {
    const records = this.#read();
    const kept = records.filter((t) => t.id !== id);
    if (kept.length === records.length) return false;
    this.#write(kept);
    return true;
  }

  /** Replaces the main token with a fresh one and returns it; the old one stops working at once. */
  rotate(): string {
    const token = newSecret();
    writeFileAtomic(this.files.main, token + "\n", 0o600);
    return token;
  }

  /** Counts one use of token `id` (after a registration it allowed). */
  consume(id: string): void {
    if (id === MAIN_TOKEN_ID) return;
    this.#write(this.#read().map((t) => (t.id === id && t.uses_left !== null ? { ...t, uses_left: Math.max(0, t.uses_left - 1) } : t)));
  }

  /** Every extra token as stored, secrets included (for a shared store to import). */
  records(): TokenRecord[] {
    return this.#read();
  }

  /** Replaces every extra token (a relay sharing a store mirrors the store's). */
  replace(records: TokenRecord[]): void {
    this.#write(records);
  }

  #read(): TokenRecord[] {
    const text = readFileIfExists(this.files.extra);
    if (text === undefined) return [];
    try {
      return (JSON.parse(text) as { tokens: TokenRecord[] }).tokens;
    } catch (error) {
      throw new Error(`Cannot read tokens "${this.files.extra}": ${(error as Error).message}`, { cause: error });
    }
  }

  #write(tokens: TokenRecord[]): void {
    writeFileAtomic(this.files.extra, JSON.stringify({ version: 1, tokens }, null, 2) + "\n", 0o600);
  }
}

function usable(record: TokenRecord, now: number): boolean {
  return (record.expires === null || Date.parse(record.expires) > now) && (record.uses_left === null || record.uses_left > 0);
}

/** Parses a duration such as "90s", "30m", "12h", "7d" into seconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "s"];
}
