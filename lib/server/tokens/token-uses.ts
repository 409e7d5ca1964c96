/**
 * Uses of enrollment tokens held by registrations in flight. A registration
 * proves its token, then awaits the signature check and the registry; the use
 * is only counted (tokens.json) once it created a client. Without a hold,
 * every registration arriving in that gap would see the last use still free.
 * @module
 */
import { MAIN_TOKEN_ID, type TokenStore } from "./tokens.ts";

/** One use of a token, held for one registration: commit() counts it, release() gives it back. Either ends the hold; the second call does nothing. */
export interface TokenUse {
  commit(): void;
  release(): void;
}

/** Holds token uses in memory, in front of the one TokenStore that counts them. */
export class TokenUses {
  readonly #held = new Map<string, number>();

  constructor(private readonly tokens: TokenStore) {}

  /**
   * Holds one use of token `id` for a registration in flight; undefined when
   * the token is unknown, expired, revoked, or its uses left are all held.
   * Synchronous, so a caller that holds right after checking the proof, with
   * no await between, cannot lose the race to another registration.
   */
  hold(id: string, now = Date.now()): TokenUse | undefined {
    if (id === MAIN_TOKEN_ID) return { commit() {}, release() {} }; // the main token has no use count
    const token = this.tokens.list(now).find((t) => t.id === id);
    const held = this.#held.get(id) ?? 0;
    if (!token?.valid || (token.uses_left !== null && token.uses_left - held <= 0)) return undefined;
    this.#held.set(id, held + 1);
    let done = false;
    const end = (counted: boolean) => {
      if (done) return;
      done = true;
      if (counted) this.tokens.consume(id);
      const left = (this.#held.get(id) ?? 1) - 1;
      if (left > 0) this.#held.set(id, left);
      else this.#held.delete(id);
    };
    return { commit: () => end(true), release: () => end(false) };
  }
}
