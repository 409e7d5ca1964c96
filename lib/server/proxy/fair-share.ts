/**
 * Per-source fairness for a tunnel's upstream connections: one source
 * address may have at most `share` requests in flight to one tunnel; its
 * further requests wait for one of its own to finish, so a visitor that
 * holds connections (slow uploads, many parallel requests) cannot take the
 * whole pool while others wait behind it.
 * @module
 */

/** Counts requests in flight per (tunnel, source) and queues those over the share. */
export class FairShare {
  readonly #inFlight = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(private readonly share: number) {}

  /**
   * Takes a slot for `key` ("<port> <source>"): returns undefined when one
   * was free (no promise on the common path), else a promise that resolves
   * once one is. Every taken slot must be given back with release().
   */
  acquire(key: string): Promise<void> | undefined {
    const count = this.#inFlight.get(key) ?? 0;
    if (count < this.share) {
      this.#inFlight.set(key, count + 1);
      return undefined;
    }
    return new Promise((resolve) => {
      const queue = this.#waiting.get(key);
      if (queue) queue.push(resolve);
      else this.#waiting.set(key, [resolve]);
    });
  }

  /** Gives `key`'s slot to its next waiting request, or frees it. */
  release(key: string): void {
    const queue = this.#waiting.get(key);
    const next = queue?.shift();
    if (queue?.length === 0) this.#waiting.delete(key);
    if (next) return next(); // the slot passes on: the count stays
    const count = (this.#inFlight.get(key) ?? 1) - 1;
    if (count > 0) this.#inFlight.set(key, count);
    else this.#inFlight.delete(key);
  }

  /** Requests in flight for `key` (for tests and the dashboard). */
  inFlight(key: string): number {
    return this.#inFlight.get(key) ?? 0;
  }
}
