/**
 * How a relay learns that another one changed the shared registry: LISTEN
 * for the hint (within milliseconds), and a poll of the version as the
 * truth (a NOTIFY lost while the connection was down is caught within one
 * interval). Each change found runs `onChange` once; runs never overlap.
 * @module
 */
import pg from "pg";
import { REGISTRY_CHANNEL, type PgRegistry } from "./pg-registry.ts";
import type { PgStore } from "./pg-store.ts";

export interface WatchOptions {
  /** Re-reads the registry; called when the version moved. */
  onChange: () => Promise<void>;
  /** How often the version is polled, in ms. */
  intervalMs?: number;
  log: (line: string) => void;
}

/** Watches the store's registry version; start() it, stop() it. */
export class StoreWatcher {
  #seen: string | undefined;
  #listener: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #reachable = true;

  constructor(private readonly store: PgStore, private readonly registry: PgRegistry, private readonly options: WatchOptions) {}

  /** Starts watching from `version` (the one the registry was loaded at). */
  start(version: string): void {
    this.#seen = version;
    this.#timer = setInterval(() => void this.check(), this.options.intervalMs ?? 1_000);
    this.#timer.unref();
    void this.#listen();
  }

  /** Compares the version with the last seen and re-reads on a change; coalesces calls that come while one runs. */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          const version = await this.registry.version();
          if (!this.#reachable) this.options.log(`store ${this.store.where}: reachable again`);
          this.#reachable = true;
          if (version !== this.#seen) {
            await this.options.onChange();
            this.#seen = version;
          }
        } catch (error) {
          // Serving goes on from what was read last; changes are refused (503) until the store is back.
          if (this.#reachable) this.options.log(`store ${this.store.where}: cannot be read (${(error as Error).message}); serving from the last state read`);
          this.#reachable = false;
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** True unless the last poll failed. */
  get reachable(): boolean {
    return this.#reachable;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#listener?.end().catch(() => undefined);
    await this.#running;
  }

  /** One connection that LISTENs; when it breaks, another is tried a second later (the poll covers the gap). */
  async #listen(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.store.url, connectionTimeoutMillis: 3_000, application_name: "petit-serverd listen" });
    const retry = () => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      client.end().catch(() => undefined);
      if (!this.#stopped) setTimeout(() => void this.#listen(), 1_000).unref();
    };
    this.#listener = client;
    client.on("error", retry);
    client.on("end", retry);
    client.on("notification", () => void this.check());
    try {
      await client.connect();
      await client.query(`LISTEN ${REGISTRY_CHANNEL}`);
      // A change made while this connection was being set up would have no NOTIFY for us.
      void this.check();
    } catch {
      retry();
    }
  }
}
