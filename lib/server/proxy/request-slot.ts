/**
 * The bookkeeping of one request in hand on a visitor connection: its
 * place in the visitor's fair share of the tunnel, its client's counters,
 * and, once answered, its status and time for the metrics and access log.
 * @module
 */
import type { ClientCounters } from "../metrics/metrics.ts";
import type { ProxyContext } from "./context.ts";
import type { ProxyRequest } from "./types.ts";

/** One request at a time; reused on a connection. */
export class RequestSlot {
  req: ProxyRequest | undefined;
  counters: ClientCounters | undefined;
  #started = 0;
  #shareKey: string | undefined;

  constructor(private readonly context: ProxyContext) {}

  /** Takes `req` in hand now. */
  open(req: ProxyRequest): void {
    this.req = req;
    this.#started = this.context.timed ? performance.now() : 0;
  }

  /** Counts the request for client `id` (requests, and active until it ends). */
  count(id: number): ClientCounters | undefined {
    const metrics = this.context.options.metrics;
    if (!metrics) return undefined;
    this.counters = metrics.client(id);
    this.counters.requests++;
    this.counters.active++;
    return this.counters;
  }

  /** Waits for a place in the share `key` (tunnel port and source), then calls `then` (at once when one is free). */
  share(key: string, then: () => void): void {
    const taken = () => {
      this.#shareKey = key;
      then();
    };
    const wait = this.context.shares.acquire(key);
    if (wait) void wait.then(taken);
    else taken();
  }

  /** Lets the request go untimed and unlogged: another relay answers it (forward-to-peer.ts) and counts it there. */
  drop(): void {
    this.req = undefined;
  }

  /** Ends the request with `status`: its share and counters are given back; answered ones (not 101) are timed and logged. */
  close(status: number): void {
    const req = this.req;
    if (!req) return;
    this.req = undefined;
    if (this.#shareKey !== undefined) this.context.shares.release(this.#shareKey);
    this.#shareKey = undefined;
    if (this.counters) this.counters.active--;
    this.counters = undefined;
    if (!this.context.timed || status === 101) return;
    const ms = performance.now() - this.#started;
    this.context.options.metrics?.answered(status, ms);
    this.context.options.onAnswered?.(req, status, ms);
  }
}
