/**
 * Which other relay holds each tunnel, for the proxy's one-hop forwarding:
 * the store's presence rows joined with the relays' node addresses, read
 * every second and kept in memory, so a visitor's request never waits for
 * the database. A relay that stopped stamping its row (three heartbeats) is
 * left out: its tunnels are nowhere until their clients reconnect.
 * @module
 */
import type { PgStore } from "./pg-store.ts";

/** Where a tunnel held by another relay is: that relay's name and node address (HOST:PORT of its proxy). */
export interface TunnelHolder {
  node: string;
  address: string;
}

/** How often the presence of other relays' tunnels is read again. Presence itself moves within ~2 s (PresenceMonitor). */
export const HOLDERS_POLL_MS = 1_000;

/** The other relays' tunnels, by client ID; start() it, stop() it. */
export class TunnelHolders {
  #byClient = new Map<number, TunnelHolder>();
  #timer: NodeJS.Timeout | undefined;
  #reading = false;

  /** `self` is this relay's node name (its own rows are the presence monitor's business); `staleS` drops relays not seen for so long. */
  constructor(private readonly store: PgStore, private readonly self: string, private readonly staleS: number) {}

  /** The relay holding client `id`'s tunnel, when another one does. */
  holder(id: number): TunnelHolder | undefined {
    return this.#byClient.get(id);
  }

  start(intervalMs = HOLDERS_POLL_MS): void {
    void this.read();
    this.#timer = setInterval(() => void this.read(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads the holders once; while the store is away, the last ones read stay (tunnels keep routing, as the issue asks). */
  async read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const { rows } = await this.store.query<{ client_id: number; node: string; address: string }>(
        `SELECT p.client_id, n.name AS node, n.address FROM petit_presence p JOIN petit_nodes n ON n.name = p.node
         WHERE p.node <> $1 AND n.seen > now() - make_interval(secs => $2)`,
        [this.self, this.staleS],
      );
      this.#byClient = new Map(rows.map((r) => [r.client_id, { node: r.node, address: r.address }]));
    } catch {
      // The store watcher reports the outage; routing goes on from what was read last.
    } finally {
      this.#reading = false;
    }
  }
}
