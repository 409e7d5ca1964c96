/**
 * The relay's counters: proxy requests by status class and their latency,
 * bytes and connections per client, visitor refusals, registrations. The
 * proxy only bumps numbers on its hot path; rates and the /metrics text are
 * computed here, once a second and on request.
 * @module
 */
import type { Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { histogramSamples, type Metric, newHistogram, observe, renderPrometheus } from "../../http/prometheus.ts";
import type { CountersView } from "../../protocol/server-control.ts";

/** What the proxy counts for one client. */
export interface ClientCounters {
  /** HTTP requests routed to the client. */
  requests: number;
  /** CONNECT and Upgrade pipes opened to the client. */
  pipes: number;
  /** Requests in flight and pipes open now. */
  active: number;
  /** Bytes from visitors to the client: request bodies and pipe bytes. */
  bytesIn: number;
  /** Bytes from the client to visitors: response bodies and pipe bytes. */
  bytesOut: number;
}

/** The proxy's side of the metrics: what it calls while it works. */
export interface ProxyMetrics {
  /** Counters of client `id` (created on first use). */
  client(id: number): ClientCounters;
  /** One answered request: its status and how long it took, in milliseconds. */
  answered(status: number, ms: number): void;
  /** A visitor refused by the access rules (403, 407 or 429). */
  refused(status: number): void;
}

/** Samples of the last seconds, for a current rate. */
const RATE_WINDOW = 5;

/** Request latency buckets, in seconds. */
const LATENCY_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const REFUSALS: Record<number, string> = { 403: "source_not_allowed", 407: "missing_or_wrong_token", 429: "rate_limited" };

interface Counters extends ClientCounters {
  lastRequests: number;
  window: number[];
  slot: number;
}

/** All the relay's metrics. */
export class ServerMetrics implements ProxyMetrics {
  readonly #clients = new Map<number, Counters>();
  /** Requests by status class: index 1 is 1xx … 5 is 5xx. */
  readonly #classes = [0, 0, 0, 0, 0, 0];
  readonly #latency = newHistogram(LATENCY_BOUNDS);
  readonly #refusals = new Map<string, number>();
  #registrations = 0;
  #timer: NodeJS.Timeout | undefined;
  /** How late the event loop runs its timers: every request waits out a stall (a GC, a blocking call). */
  readonly #loopDelay = monitorEventLoopDelay({ resolution: 10 });

  /** Starts sampling request rates once a second, and the event loop's delay. */
  start(): void {
    this.#timer = setInterval(() => this.sample(), 1_000);
    this.#timer.unref();
    this.#loopDelay.enable();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#loopDelay.disable();
  }

  client(id: number): ClientCounters {
    let counters = this.#clients.get(id);
    if (!counters) {
      counters = { requests: 0, pipes: 0, active: 0, bytesIn: 0, bytesOut: 0, lastRequests: 0, window: new Array(RATE_WINDOW).fill(0), slot: 0 };
      this.#clients.set(id, counters);
    }
    return counters;
  }

  answered(status: number, ms: number): void {
    const cls = Math.floor(status / 100);
    if (cls >= 1 && cls <= 5) this.#classes[cls]++;
    observe(this.#latency, ms / 1000);
  }

  refused(status: number): void {
    const reason = REFUSALS[status] ?? String(status);
    this.#refusals.set(reason, (this.#refusals.get(reason) ?? 0) + 1);
  }

  /** Counts a registration that created a client. */
  registered(): void {
    this.#registrations++;
  }

  /** Records the requests of the last second of every client (the timer calls it; tests may too). */
  sample(): void {
    for (const c of this.#clients.values()) {
      c.window[c.slot] = c.requests - c.lastRequests;
      c.lastRequests = c.requests;
      c.slot = (c.slot + 1) % RATE_WINDOW;
    }
  }

  /** Returns client `id`'s counters for the API (zeros when it had no traffic). */
  view(id: number): CountersView {
    const c = this.#clients.get(id);
    if (!c) return { requests: 0, connections_open: 0, connections_total: 0, bytes_in: 0, bytes_out: 0, requests_per_second: 0 };
    return {
      requests: c.requests, connections_open: c.active, connections_total: c.requests + c.pipes,
      bytes_in: c.bytesIn, bytes_out: c.bytesOut,
      requests_per_second: Math.round((c.window.reduce((a, b) => a + b, 0) / RATE_WINDOW) * 10) / 10,
    };
  }

  /** The event loop's delay since the last scrape (as prom-client's nodejs_eventloop_lag_*), which starts a new window. */
  #loopDelayMetrics(): Metric[] {
    const h = this.#loopDelay;
    const seen = h.count > 0;
    const metrics: Metric[] = [
      { name: "petit_event_loop_delay_p99_seconds", help: "99th percentile of how late petit-serverd's event loop ran, since the last scrape.", type: "gauge", samples: [{ value: seen ? h.percentile(99) * NS : 0 }] },
      { name: "petit_event_loop_delay_max_seconds", help: "Longest stall of petit-serverd's event loop since the last scrape.", type: "gauge", samples: [{ value: seen ? h.max * NS : 0 }] },
    ];
    h.reset();
    return metrics;
  }

  /** Renders /metrics for the registered `clients` (revoked ones drop out). */
  render(clients: readonly { id: number; name: string; online: boolean }[]): string {
    const per = (pick: (c: ClientCounters) => number) =>
      clients.map((c) => ({ labels: { client: c.id, name: c.name }, value: pick(this.#clients.get(c.id) ?? ZERO) }));
    const metrics: Metric[] = [
      { name: "petit_tunnels_up", help: "Clients whose tunnel is connected now.", type: "gauge", samples: [{ value: clients.filter((c) => c.online).length }] },
      { name: "petit_clients_registered", help: "Clients in the registry.", type: "gauge", samples: [{ value: clients.length }] },
      { name: "petit_registrations_total", help: "Registrations that created a client since the relay started.", type: "counter", samples: [{ value: this.#registrations }] },
      {
        name: "petit_proxy_requests_total", help: "HTTP requests the proxy answered, by status class.", type: "counter",
        samples: [1, 2, 3, 4, 5].map((cls) => ({ labels: { code: `${cls}xx` }, value: this.#classes[cls] })),
      },
      { name: "petit_proxy_request_duration_seconds", help: "Time from a request's arrival to the end of its answer.", type: "histogram", samples: histogramSamples(this.#latency) },
      {
        name: "petit_visitor_auth_failures_total", help: "Visitors refused by the access rules, by reason.", type: "counter",
        samples: [...this.#refusals].map(([reason, value]) => ({ labels: { reason }, value })),
      },
      { name: "petit_client_up", help: "1 while the client's tunnel is connected.", type: "gauge", samples: clients.map((c) => ({ labels: { client: c.id, name: c.name }, value: c.online ? 1 : 0 })) },
      { name: "petit_client_requests_total", help: "HTTP requests proxied to the client.", type: "counter", samples: per((c) => c.requests) },
      { name: "petit_client_pipes_total", help: "CONNECT and Upgrade (WebSocket) pipes opened to the client.", type: "counter", samples: per((c) => c.pipes) },
      { name: "petit_client_connections_open", help: "Requests in flight and pipes open to the client now.", type: "gauge", samples: per((c) => c.active) },
      { name: "petit_client_bytes_in_total", help: "Bytes from visitors to the client (request bodies, pipe bytes).", type: "counter", samples: per((c) => c.bytesIn) },
      { name: "petit_client_bytes_out_total", help: "Bytes from the client to visitors (response bodies, pipe bytes).", type: "counter", samples: per((c) => c.bytesOut) },
      ...this.#loopDelayMetrics(),
    ];
    return renderPrometheus(metrics);
  }
}

/** Nanoseconds to seconds, for the event loop's delay (which node measures in ns). */
const NS = 1e-9;

const ZERO: ClientCounters = { requests: 0, pipes: 0, active: 0, bytesIn: 0, bytesOut: 0 };

/** Yields `body` unchanged, counting its bytes into `counters.bytesIn` (request bodies on their way to a tunnel). */
export async function* countedBody(body: AsyncIterable<Buffer>, counters: ClientCounters): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    counters.bytesIn += chunk.length;
    yield chunk;
  }
}

/** Counts an open pipe to client `id`, and its bytes once it closes (read from the tunnel socket: no per-chunk cost). */
export function countPipe(metrics: ProxyMetrics | undefined, id: number, tunnel: Socket): void {
  if (!metrics) return;
  const counters = metrics.client(id);
  counters.pipes++;
  counters.active++;
  tunnel.once("close", () => {
    counters.active--;
    counters.bytesIn += tunnel.bytesWritten;
    counters.bytesOut += tunnel.bytesRead;
  });
}
