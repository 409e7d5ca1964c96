/**
 * The rows `petit server clients` shows, from the registry and presence.
 * @module
 */
import type { PresenceMonitor } from "./presence.ts";
import type { Registry } from "./registry.ts";

/** One client as shown to operators. */
export interface ClientRow {
  id: number;
  name: string;
  host: string;
  port: number;
  fingerprint: string;
  online: boolean;
  online_since: string | null;
  last_seen: string | null;
  created: string;
}

/** Returns a row per registered client; `presence` absent means the relay is down (all offline). */
export function clientRows(registry: Registry, presence: PresenceMonitor | undefined, domain: string): ClientRow[] {
  return registry.list().map((c) => {
    const state = presence?.get(c.id) ?? { online: false, since: null };
    return {
      id: c.id, name: c.name, host: `${c.id}.${domain}`, port: c.port, fingerprint: c.key.fingerprint,
      online: state.online, online_since: state.since,
      last_seen: state.online ? new Date().toISOString() : c.last_seen, created: c.created,
    };
  });
}
