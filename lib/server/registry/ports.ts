/**
 * Handing out relay ports: the first port of the range that no client holds
 * and nothing else listens on, and the ports of a client's extra tunnels.
 * @module
 */
import { RegistrationError } from "./checks.ts";
import type { ClientRecord, TunnelRecord } from "./records.ts";

/**
 * Returns the first port in `range` that is not in `taken` and that
 * `isPortFree` (when given) says is free; throws a RegistrationError (503)
 * when there is none.
 */
export async function findFreePort(
  range: { first: number; last: number }, taken: Set<number>, isPortFree?: (port: number) => Promise<boolean>,
): Promise<number> {
  const { first, last } = range;
  for (let port = first; port <= last; port++) {
    if (taken.has(port)) continue;
    if (isPortFree && !(await isPortFree(port))) continue;
    return port;
  }
  throw new RegistrationError(`No free tunnel port left in ${first}-${last}; widen server.port_range`, 503);
}

/**
 * Returns `client`'s tunnels for `names`: those still wanted keep their
 * ports, new ones get one from `freePort` (given the ports already chosen).
 */
export async function assignTunnelPorts(
  client: ClientRecord, names: string[], freePort: (reserved: Set<number>) => Promise<number>,
): Promise<TunnelRecord[]> {
  const out: TunnelRecord[] = [];
  const reserved = new Set([client.port]);
  for (const name of names) {
    const kept = client.tunnels?.find((t) => t.name === name);
    const port = kept?.port ?? await freePort(reserved);
    reserved.add(port);
    out.push({ name, port });
  }
  return out;
}
