/**
 * Proof of the enrollment token without sending it: an HMAC over a
 * timestamp, a nonce and the request body. A listener on the wire learns
 * neither the token nor a request it could replay.
 * @module
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { PROOF_MAX_SKEW_SECONDS } from "./constants.ts";
import { safeEqual } from "./secrets.ts";

/** Returns the proof header value for `body` signed with `token`. */
export function makeProof(token: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  const n = randomBytes(16).toString("hex");
  return `t=${t},n=${n},s=${sign(token, t, n, body)}`;
}

function sign(token: string, t: number, n: string, body: string): string {
  const digest = createHash("sha256").update(body).digest("hex");
  return createHmac("sha256", token).update(`petit-register\n${t}\n${n}\n${digest}`).digest("hex");
}

/**
 * Checks proofs and remembers their nonces until they expire, so each proof
 * is accepted once.
 */
export class ProofChecker {
  #seen = new Map<string, number>();

  constructor(private readonly token: () => string) {}

  /** Returns why `header` does not prove the token for `body`, or undefined when it does. */
  check(header: string | undefined, body: string, now = Date.now()): string | undefined {
    const match = /^t=(\d{1,12}),n=([0-9a-f]{32}),s=([0-9a-f]{64})$/.exec(header ?? "");
    if (!match) return "missing or malformed proof of the enrollment token";
    const t = Number(match[1]);
    const skew = Math.abs(now / 1000 - t);
    if (skew > PROOF_MAX_SKEW_SECONDS) {
      return `request time is ${Math.round(skew)} s away from the relay's clock (check the clocks; at most ${PROOF_MAX_SKEW_SECONDS} s)`;
    }
    if (!safeEqual(sign(this.token(), t, match[2], body), match[3])) return "wrong enrollment token";
    this.#prune(now);
    if (this.#seen.has(match[2])) return "this request was already used (replay)";
    this.#seen.set(match[2], now + 2 * PROOF_MAX_SKEW_SECONDS * 1000);
    return undefined;
  }

  #prune(now: number): void {
    for (const [nonce, expires] of this.#seen) if (expires < now) this.#seen.delete(nonce);
  }
}
