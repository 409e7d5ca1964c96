/**
 * The rows `petit server clients` shows, from the registry and presence.
 * @module
 */
import type { ClientRow, CountersView } from "../../protocol/server-control.ts";
import type { PresenceMonitor } from "../metrics/presence.ts";
import type { Registry } from "../registry/registry.ts";

/**
 * Returns a row per registered client; `presence` absent means the relay is
 * down (all offline, unless `elsewhere` — the shared store's presence — says
 * another relay holds the tunnel). `self` names this relay.
 */
export function clientRows(
  registry: Registry, presence: PresenceMonitor | undefined, domain: string, counters: (id: number) => CountersView = noCounters,
  elsewhere: Map<number, { node: string; seen: string }> = new Map(), self: string | null = null,
): ClientRow[] {
  return registry.list().map((c) => {
    const here = presence?.get(c.id) ?? { online: false, since: null };
    const seen = elsewhere.get(c.id);
    // Another relay stamps its clients at least every 30 s; a relay that died stops stamping and its claim fades.
    const there = !here.online && seen && Date.now() - Date.parse(seen.seen) < 90_000 ? seen : undefined;
    const state = there ? { online: true, since: null } : here;
    return {
      id: c.id, name: c.name, host: `${c.id}.${domain}`, port: c.port, fingerprint: c.key.fingerprint,
      online: state.online, online_since: state.since, relay: here.online ? self : there?.node ?? null,
      last_seen: state.online ? new Date().toISOString() : c.last_seen, created: c.created,
      ...counters(c.id),
    };
  });
}

function noCounters(): CountersView {
  return { requests: 0, connections_open: 0, connections_total: 0, bytes_in: 0, bytes_out: 0, requests_per_second: 0 };
}
