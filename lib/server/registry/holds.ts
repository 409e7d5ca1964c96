/**
 * Ports and names a client gave up, held back from other clients for a
 * while. A revoked key may still have a session that binds its old port
 * later (its permitlisten was fixed at login), and an old URL or name may
 * still be in people's bookmarks: neither may reach a new client at once.
 * The client that gave one up may take it back (same key, no harm). Pure.
 * @module
 */

/** How long a released relay port is kept from other clients: far beyond any session a revoked key could keep. */
export const PORT_HOLD_MS = 24 * 3600_000;
/** How long a released name is kept from other clients, unless the operator frees it on revoke. */
export const NAME_HOLD_MS = 30 * 24 * 3600_000;

/** One held port or name: who gave it up, and until when (ISO time) it is kept from others. */
export interface Hold {
  id: number;
  until: string;
}

/** Everything held, as registry.json keeps it. */
export interface Holds {
  ports: Record<string, Hold>;
  names: Record<string, Hold>;
}

/** Names no client may take: they look like the relay's own services. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "www", "api", "app", "admin", "relay", "petit", "localhost", "local", "mail", "smtp", "imap", "pop", "ftp", "ns", "ns1", "ns2",
  "dns", "ssh", "vpn", "status", "dashboard", "login", "auth", "root", "autoconfig", "autodiscover", "wpad", "static", "cdn",
]);

/** An empty set of holds. */
export function noHolds(): Holds {
  return { ports: {}, names: {} };
}

/** Returns `holds` without the expired ones. */
export function liveHolds(holds: Holds, now = Date.now()): Holds {
  const live = (map: Record<string, Hold>) => Object.fromEntries(Object.entries(map).filter(([, h]) => Date.parse(h.until) > now));
  return { ports: live(holds.ports), names: live(holds.names) };
}

/** Returns `holds` with `ports` and `names` held for client `id` from `now`. */
export function addHolds(holds: Holds, id: number, ports: number[], names: string[], now = Date.now()): Holds {
  const hold = (ms: number): Hold => ({ id, until: new Date(now + ms).toISOString() });
  return {
    ports: { ...holds.ports, ...Object.fromEntries(ports.map((p) => [String(p), hold(PORT_HOLD_MS)])) },
    names: { ...holds.names, ...Object.fromEntries(names.filter(Boolean).map((n) => [n, hold(NAME_HOLD_MS)])) },
  };
}

/** Returns `holds` without what client `id` takes back (`ports`, `names`). */
export function releaseHolds(holds: Holds, ports: number[], names: string[]): Holds {
  const drop = <T>(map: Record<string, T>, keys: string[]) => Object.fromEntries(Object.entries(map).filter(([k]) => !keys.includes(k)));
  return { ports: drop(holds.ports, ports.map(String)), names: drop(holds.names, names) };
}

/** The ports held from clients other than `id` (all of them when `id` is undefined, i.e. a new client). */
export function portsHeldFrom(holds: Holds, id: number | undefined, now = Date.now()): number[] {
  return Object.entries(liveHolds(holds, now).ports).filter(([, h]) => h.id !== id).map(([p]) => Number(p));
}

/** Why client `id` may not take `name` (reserved, or held for another client), or undefined when it may. */
export function nameRefusal(holds: Holds, id: number | undefined, name: string, now = Date.now()): string | undefined {
  if (RESERVED_NAMES.has(name)) return `The name "${name}" is reserved (it looks like one of the relay's own services); choose another`;
  const hold = liveHolds(holds, now).names[name];
  if (hold && hold.id !== id) {
    return `The name "${name}" belonged to client ${hold.id} and is held until ${hold.until.slice(0, 10)} so that it does not ` +
      `reach a new client at once; choose another (an operator who revokes a client can free its names at once: "petit server revoke ID --free-names")`;
  }
  return undefined;
}
