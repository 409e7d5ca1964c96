/**
 * What the supervisor does after an unplanned exit, besides waiting: ask
 * the relay to free a port an old session holds, and — relays sharing a
 * store — move to the next relay when this one looks gone.
 * @module
 */
import type { ExitReason } from "./classify.ts";
import type { SupervisorOptions } from "./supervisor-options.ts";

/** Asks the relay (signed, see release.ts) to end this client's old session that still holds `port`. */
export function askRelease(o: SupervisorOptions, port: number): void {
  o.releasePort?.(port).then(
    (ended) => o.log(`tunnel: asked the relay to free port ${port}: it ended ${ended} old session(s)`),
    (error) => o.log(`tunnel: could not ask the relay to free port ${port}: ${(error as Error).message}`),
  );
}

/**
 * Returns the wait before the next attempt: `backoff`, unless the relay looks
 * gone (a network failure) and others share its store — then the next attempt
 * goes to the next relay (o.args is replaced), at once while `hops` (relays
 * tried since the last connection) has not gone round them all.
 */
export function nextAttempt(o: SupervisorOptions, reason: ExitReason, backoff: number, hops: number): number {
  if (!reason.network || !o.failover || o.failover.count < 2) return backoff;
  const next = o.failover.next();
  o.args = next.args;
  o.log(`tunnel: moving to relay ${next.relay}`);
  return hops < o.failover.count - 1 ? Math.min(backoff, 500) : backoff;
}
