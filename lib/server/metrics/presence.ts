/**
 * Which clients are connected right now: a client is online while its tunnel
 * port listens on 127.0.0.1 (only its own sshd session can bind it).
 * @module
 */
import { readDescendantsOf } from "../../proc/process.ts";
import { readLoopbackListeners, readPortsHeldBy } from "../../proc/sockets.ts";
import type { Registry } from "../registry/registry.ts";

/** Online state of one client. */
export interface Presence {
  online: boolean;
  since: string | null;
}

/** Polls the listening ports every `intervalMs` and records who is connected since when. */
export class PresenceMonitor {
  #since = new Map<number, string>();
  #timer: NodeJS.Timeout | undefined;
  #lastPersist = 0;
  /** A write of who is here failed: it is tried again at the next poll, not 30 s later. */
  #persistFailed = false;
  /** Clients that left while a write of that failed: told again at the next poll, unless they are back. */
  #goneUnsaid = new Set<number>();
  #inflight: Promise<void> | undefined;

  /**
   * `ownedBy`, when given, names the sshd whose sessions count: relays sharing
   * a store may share a machine (and its loopback), and each must claim only
   * the tunnels its own sshd holds.
   */
  constructor(private readonly registry: Registry, private readonly intervalMs = 1_000, private readonly ownedBy?: () => number | undefined) {}

  start(): void {
    void this.poll();
    this.#timer = setInterval(() => void this.poll(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Reads the listening ports once (joining a read under way); persists last-seen times on changes and every 30 s. */
  poll(): Promise<void> {
    this.#inflight ??= this.#read().finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  /** Reads the listening ports now: after any read under way, which may predate a change. */
  async refresh(): Promise<void> {
    await this.#inflight;
    await this.poll();
  }

  async #read(): Promise<void> {
    const sshd = this.ownedBy?.();
    const ports = this.ownedBy
      ? (sshd ? await readPortsHeldBy(await readDescendantsOf(sshd)) : new Set<number>())
      : new Set((await readLoopbackListeners()).map((l) => l.port));
    let changed = false;
    const online: number[] = [];
    const left: number[] = [];
    for (const client of this.registry.list()) {
      const up = ports.has(client.port);
      if (up) online.push(client.id);
      if (up && !this.#since.has(client.id)) {
        this.#since.set(client.id, new Date().toISOString());
        changed = true;
      } else if (!up && this.#since.delete(client.id)) {
        changed = true;
        left.push(client.id);
      }
    }
    const now = Date.now();
    if (online.length && (changed || this.#persistFailed || now - this.#lastPersist > 30_000)) {
      this.#lastPersist = now;
      this.#persistFailed = false;
      // With a shared store, this row is how the other relays find the tunnel: a failed write must not wait 30 s.
      this.registry.markSeen(online).catch(() => (this.#persistFailed = true));
    }
    const gone = [...this.#goneUnsaid, ...left].filter((id) => !this.#since.has(id));
    this.#goneUnsaid.clear();
    this.registry.markGone(gone).catch(() => gone.forEach((id) => this.#goneUnsaid.add(id)));
  }

  /** Online state of client `id`. */
  get(id: number): Presence {
    const since = this.#since.get(id) ?? null;
    return { online: since !== null, since };
  }

  /** True when client `id`'s tunnel is held here (as of the last poll): the proxy's cheap check before it asks other relays. */
  holds(id: number): boolean {
    return this.#since.has(id);
  }
}
