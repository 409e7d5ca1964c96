/**
 * A fixed-window counter per key (a source address), for failed visitor
 * authentication and registration attempts.
 * @module
 */

/** Counts events per key and says when a key has had too many in its window. */
export class RateLimiter {
  #windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly limit: number, private readonly windowMs: number) {}

  /** Counts one event for `key`; returns true while the key stays within the limit. */
  hit(key: string, now = Date.now()): boolean {
    this.#prune(now);
    const window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      this.#windows.set(key, { count: 1, resetAt: now + this.windowMs });
      return true;
    }
    window.count++;
    return window.count <= this.limit;
  }

  /** Tells whether `key` is over the limit now, without counting. */
  blocked(key: string, now = Date.now()): boolean {
    const window = this.#windows.get(key);
    return window !== undefined && window.resetAt > now && window.count > this.limit;
  }

  /** Seconds until `key`'s window ends. */
  retryAfter(key: string, now = Date.now()): number {
    const window = this.#windows.get(key);
    return window ? Math.max(1, Math.ceil((window.resetAt - now) / 1000)) : 1;
  }

  #prune(now: number): void {
    if (this.#windows.size < 10_000) return;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }
}
