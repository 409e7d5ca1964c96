/**
 * Proof of the enrollment token without sending it: an HMAC over a
 * timestamp, a nonce and the request body. A listener on the wire learns
 * neither the token nor a request it could replay.
 * @module
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { PROOF_MAX_SKEW_SECONDS } from "./constants.ts";
import { safeEqual } from "./secrets.ts";

/**
 * Returns the proof header value for `body` signed with `token`. A token of
 * the form "<id>.<secret>" names itself with `k=<id>`; the whole token string
 * is the HMAC key either way.
 */
export function makeProof(token: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  const n = randomBytes(16).toString("hex");
  const dot = token.indexOf(".");
  const k = dot > 0 ? `k=${token.slice(0, dot)},` : "";
  return `${k}t=${t},n=${n},s=${sign(token, t, n, body)}`;
}

/** Returns the token id a proof header names ("main" when none). */
export function proofTokenId(header: string | undefined): string {
  return /^k=([a-z0-9]{1,16}),/.exec(header ?? "")?.[1] ?? "main";
}

function sign(token: string, t: number, n: string, body: string): string {
  const digest = createHash("sha256").update(body).digest("hex");
  return createHmac("sha256", token).update(`petit-register\n${t}\n${n}\n${digest}`).digest("hex");
}

/** Where accepted nonces are remembered until they expire (the relay keeps them on disk: see server/api/nonce-store.ts). */
export interface NonceSet {
  /** Records `nonce` until `expires` (ms); false when it is already recorded. */
  use(nonce: string, expires: number, now?: number): boolean;
}

/** A NonceSet in memory only. */
export class MemoryNonces implements NonceSet {
  protected readonly seen = new Map<string, number>();

  use(nonce: string, expires: number, now = Date.now()): boolean {
    for (const [n, e] of this.seen) if (e < now) this.seen.delete(n);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, expires);
    return true;
  }
}

/** How long a nonce is remembered: past that its request is refused for its time anyway. */
export const NONCE_LIFETIME_MS = 2 * PROOF_MAX_SKEW_SECONDS * 1000;

/**
 * Checks proofs and remembers their nonces until they expire, so each proof
 * is accepted once.
 */
export class ProofChecker {
  /** `token(id)` returns the usable token string with that id, or undefined. */
  constructor(private readonly token: (id: string) => string | undefined, private readonly nonces: NonceSet = new MemoryNonces()) {}

  /** Returns why `header` does not prove the token for `body`, or undefined when it does. */
  check(header: string | undefined, body: string, now = Date.now()): string | undefined {
    const match = /^(?:k=[a-z0-9]{1,16},)?t=(\d{1,12}),n=([0-9a-f]{32}),s=([0-9a-f]{64})$/.exec(header ?? "");
    if (!match) return "missing or malformed proof of the enrollment token";
    const t = Number(match[1]);
    const skew = Math.abs(now / 1000 - t);
    if (skew > PROOF_MAX_SKEW_SECONDS) {
      return `request time is ${Math.round(skew)} s away from the relay's clock (check the clocks; at most ${PROOF_MAX_SKEW_SECONDS} s)`;
    }
    const token = this.token(proofTokenId(header));
    if (token === undefined) return "unknown, expired, used-up or revoked enrollment token";
    if (!safeEqual(sign(token, t, match[2], body), match[3])) return "wrong enrollment token";
    if (!this.nonces.use(match[2], now + NONCE_LIFETIME_MS, now)) return "this request was already used (replay)";
    return undefined;
  }
}
