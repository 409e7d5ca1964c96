/**
 * A visitor in the background: GETs a client's host through one relay every
 * 50 ms and keeps each answer with its time, so a test can say when visitors
 * saw errors during a fault and that none came after it.
 * @module
 */
import type { Client, Relay } from "./fixture.ts";
import { probeGet, sleep } from "./faults.ts";

/** One request: when it was sent (ms since the epoch) and its status, or the error code when it failed. */
export interface Visit {
  at: number;
  status: number | string;
}

/** What a visitor saw, measured from `since`. */
export interface VisitErrors {
  requests: number;
  /** Answers other than 200 (and failed requests), by status. */
  errors: Record<string, number>;
  error_count: number;
  /** First and last request that was not a 200, ms after `since`; null when none. */
  first_error_ms: number | null;
  last_error_ms: number | null;
  /** From the first non-200 to the last one; 0 when none. */
  error_window_ms: number;
}

/**
 * Starts GETting `client`'s host through `relay` every `everyMs` (with its
 * access token; each request given `timeoutMs`) until stop(), for at most
 * `maxRequests` requests and `maxMs`.
 */
export function startVisitor(
  relay: Relay, client: Client, o: { everyMs?: number; timeoutMs?: number; maxRequests?: number; maxMs?: number } = {},
): { visits: Visit[]; stop(): Promise<Visit[]> } {
  const visits: Visit[] = [];
  const everyMs = o.everyMs ?? 50;
  const giveUpAt = Date.now() + (o.maxMs ?? 60_000);
  let stopping = false;
  const loop = (async () => {
    for (let i = 0; i < (o.maxRequests ?? 1_200) && !stopping && Date.now() < giveUpAt; i++) {
      const at = Date.now();
      visits.push({ at, status: await probeGet(relay, client, o.timeoutMs ?? 5_000) });
      await sleep(Math.max(0, everyMs - (Date.now() - at)));
    }
  })();
  return {
    visits,
    async stop() {
      stopping = true;
      await loop;
      return visits;
    },
  };
}

/** Sums up the requests of `visits` that were not a 200, their times taken from `since`. */
export function visitErrors(visits: Visit[], since: number): VisitErrors {
  const failed = visits.filter((v) => v.status !== 200);
  const errors: Record<string, number> = {};
  for (const v of failed) errors[String(v.status)] = (errors[String(v.status)] ?? 0) + 1;
  const first = failed.at(0);
  const last = failed.at(-1);
  return {
    requests: visits.length, errors, error_count: failed.length,
    first_error_ms: first ? first.at - since : null, last_error_ms: last ? last.at - since : null,
    error_window_ms: first && last ? last.at - first.at : 0,
  };
}
