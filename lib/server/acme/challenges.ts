/**
 * HTTP-01 challenges in flight: the token the CA will ask for and the key
 * authorization to answer with (RFC 8555 §8.3).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Where the CA asks for an HTTP-01 token. */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** The tokens petit is waiting to be asked for. */
export class Http01Tokens {
  readonly #answers = new Map<string, string>();

  add(token: string, keyAuthorization: string): void {
    this.#answers.set(token, keyAuthorization);
  }

  remove(token: string): void {
    this.#answers.delete(token);
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
    const answer = /^[A-Za-z0-9_-]{1,256}$/.test(token) ? this.#answers.get(token) : undefined;
    res.writeHead(answer === undefined ? 404 : 200, { "content-type": "text/plain" });
    res.end(answer ?? "no such ACME challenge\n");
    return true;
  }
}
