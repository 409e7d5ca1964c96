/**
 * Retry delays for the tunnel: exponential with jitter, a fast first retry,
 * a cap, and a long fixed wait for errors that retrying will not fix.
 * @module
 */

/** Tuning of the backoff; every field in milliseconds. */
export interface BackoffOptions {
  first: number;
  cap: number;
  /** Delay after an error that needs a person (key revoked, host key changed). */
  fatal: number;
}

/** The defaults: 0.5 s, doubling, capped at 30 s; 5 min after a fatal error. */
export const DEFAULT_BACKOFF: BackoffOptions = { first: 500, cap: 30_000, fatal: 300_000 };

/**
 * Returns the delay before retry number `attempt` (1 = first retry after a
 * failure), jittered to between half and all of the exponential step so
 * clients that lost the relay together do not return together.
 */
export function retryDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const step = Math.min(options.cap, options.first * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
