/**
 * Single-use sign-in links (`petit server access ID --link`). The code
 * carries what it is for, signed: the client, the expiry, a random nonce,
 * and an HMAC under the sign-in secret over those and a digest of the
 * client's access token at the time. Any relay holding the secret can check
 * it (relays sharing a store share the secret); its first use spends the
 * nonce, in memory and, with a store, in the store's nonces, so it works
 * once across all relays. Rotating the token ends every link made before.
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long a sign-in link works, in milliseconds. */
export const LINK_LIFETIME_MS = 10 * 60 * 1000;
/** Nonces spent here, kept until their link expires; beyond this many the oldest go (their links may then be tried once more, not more). */
const MAX_SPENT = 10_000;

/** Claims a nonce until `expiresMs` across relays; false when it was claimed before. */
export type NonceClaim = (nonce: string, expiresMs: number) => Promise<boolean>;

/** Makes and checks the sign-in links of the relays sharing `secret`. */
export class SignInLinks {
  readonly #spent = new Map<string, number>();

  /** `claim`, with a shared store, spends a nonce for every relay (the store's nonces). */
  constructor(private readonly secret: string, private readonly claim?: NonceClaim, private readonly lifetimeMs = LINK_LIFETIME_MS) {}

  /** Makes a link code for client `clientId` whose access token is `token`; returns it and when it expires (ms). */
  issue(clientId: number, token: string, now = Date.now()): { code: string; expiresAt: number } {
    const expiresAt = now + this.lifetimeMs;
    const nonce = randomBytes(16).toString("base64url");
    return { code: `${clientId}.${expiresAt}.${nonce}.${this.#mac(clientId, expiresAt, nonce, token)}`, expiresAt };
  }

  /**
   * Spends `code` (the visitor's text): true when a relay holding this
   * secret made it for client `clientId`, the client's token is still
   * `token`, it has not expired and was not used before (here, or on another
   * relay sharing the store). Only a genuine code is spent: nobody can make
   * the store keep nonces they made up.
   */
  async redeem(code: string, clientId: number, token: string, now = Date.now()): Promise<boolean> {
    const parts = /^(\d{1,10})\.(\d{1,15})\.([\w-]{22})\.([\w-]{43})$/.exec(code);
    if (!parts || Number(parts[1]) !== clientId) return false;
    const [, , expires, nonce, mac] = parts;
    const expiresAt = Number(expires);
    const want = Buffer.from(this.#mac(clientId, expiresAt, nonce, token));
    if (!timingSafeEqual(Buffer.from(mac), want) || expiresAt <= now) return false;
    if (this.#spent.has(nonce)) return false;
    for (const [spent, until] of this.#spent) if (until <= now || this.#spent.size >= MAX_SPENT) this.#spent.delete(spent);
    this.#spent.set(nonce, expiresAt);
    if (!this.claim) return true;
    try {
      return await this.claim(`sign-in-link ${nonce}`, expiresAt);
    } catch (error) {
      // Not spent anywhere: the link stays good for a try once the store is back.
      this.#spent.delete(nonce);
      throw error;
    }
  }

  #mac(clientId: number, expiresAt: number, nonce: string, token: string): string {
    const digest = createHash("sha256").update(token).digest("hex");
    return createHmac("sha256", this.secret).update(`petit sign-in link\n${clientId}\n${expiresAt}\n${nonce}\n${digest}`).digest("base64url");
  }
}
