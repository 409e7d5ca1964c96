/**
 * Single-use sign-in links (`petit server access ID --link`): a random code
 * kept in petit-serverd's memory, bound to one client and the access token
 * it had when the link was made, spent by its first use, gone after a few
 * minutes or a restart of petit-serverd.
 * @module
 */
import { randomBytes } from "node:crypto";

/** How long a sign-in link works, in milliseconds. */
export const LINK_LIFETIME_MS = 10 * 60 * 1000;
/** The most links outstanding at once; the oldest go first beyond. */
const MAX_LINKS = 1_000;

interface Link {
  clientId: number;
  token: string;
  expiresAt: number;
}

/** The outstanding links of one relay. */
export class SignInLinks {
  readonly #links = new Map<string, Link>();

  constructor(private readonly lifetimeMs = LINK_LIFETIME_MS) {}

  /** Makes a link code for client `clientId` whose access token is `token`; returns it and when it expires (ms). */
  issue(clientId: number, token: string, now = Date.now()): { code: string; expiresAt: number } {
    this.#prune(now);
    if (this.#links.size >= MAX_LINKS) this.#links.delete(this.#links.keys().next().value!);
    const code = randomBytes(24).toString("base64url");
    const expiresAt = now + this.lifetimeMs;
    this.#links.set(code, { clientId, token, expiresAt });
    return { code, expiresAt };
  }

  /**
   * Spends `code` (the visitor's text): true when it was made for client
   * `clientId`, the client's token is still `token` and it has not expired.
   * Any use spends it, even one that fails, so a code is tried once at most.
   */
  redeem(code: string, clientId: number, token: string, now = Date.now()): boolean {
    const link = this.#links.get(code);
    if (!link) return false;
    this.#links.delete(code);
    return link.clientId === clientId && link.token === token && link.expiresAt > now;
  }

  #prune(now: number): void {
    for (const [code, link] of this.#links) if (link.expiresAt <= now) this.#links.delete(code);
  }
}
