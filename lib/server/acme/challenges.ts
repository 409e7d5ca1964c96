/**
 * HTTP-01 challenges in flight: the token the CA will ask for and the key
 * authorization to answer with (RFC 8555 §8.3).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the CA asks for an HTTP-01 token. */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/**
 * Store lookups for other relays' tokens at once, at most: the plain port is
 * anyone's, and a flood of made-up tokens must not take the store's
 * connections from registrations (beyond, a miss is a 404 at once).
 */
const MAX_SHARED_LOOKUPS = 4;

/** The challenges of every relay sharing a store, so the CA may ask any of them (store/open.ts makes it). */
export interface SharedChallenges {
  put(token: string, keyAuthorization: string): Promise<void>;
  remove(token: string): Promise<void>;
  get(token: string): Promise<string | undefined>;
}

/** The tokens petit is waiting to be asked for: this relay's, and with a store every relay's. */
export class Http01Tokens {
  readonly #answers = new Map<string, string>();
  #lookups = 0;

  constructor(private readonly shared?: SharedChallenges) {}

  /** Waits for the token to be answerable wherever the CA may ask: in the store too when relays share one. */
  async add(token: string, keyAuthorization: string): Promise<void> {
    this.#answers.set(token, keyAuthorization);
    await this.shared?.put(token, keyAuthorization);
  }

  async remove(token: string): Promise<void> {
    this.#answers.delete(token);
    await this.shared?.remove(token).catch(() => undefined);
  }

  /**
   * Answers a request for `CHALLENGE_PREFIX<token>` (any Host: the CA asks for the name it validates);
   * returns false when `req` asks for something else.
   */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "";
    if (!url.startsWith(CHALLENGE_PREFIX)) return false;
    // The visitor's (or the CA's) path: a token is base64url (RFC 8555 §8.1), anything else is simply unknown.
    const token = url.slice(CHALLENGE_PREFIX.length);
    const valid = /^[A-Za-z0-9_-]{1,256}$/.test(token);
    const send = (answer: string | undefined) => {
      res.writeHead(answer === undefined ? 404 : 200, { "content-type": "text/plain" });
      res.end(answer ?? "no such ACME challenge\n");
    };
    const own = valid ? this.#answers.get(token) : undefined;
    // Another relay's challenge: the CA reached this one (DNS with several addresses, a balancer).
    if (own !== undefined || !valid || !this.shared || this.#lookups >= MAX_SHARED_LOOKUPS) {
      send(own);
      return true;
    }
    this.#lookups++;
    this.shared.get(token).then(send, () => send(undefined)).finally(() => this.#lookups--);
    return true;
  }
}
