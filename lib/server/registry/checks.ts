/**
 * What a registration must satisfy before the registry accepts it: names
 * unique across all clients and their tunnels. Pure.
 * @module
 */
import type { ClientRecord } from "./records.ts";

/** A registration that cannot be accepted because of what the caller sent. */
export class RegistrationError extends Error {
  override name = "RegistrationError";
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

/**
 * Throws a RegistrationError unless `name` and `tunnels` are free among
 * `clients` (other than `self`, the caller's own record) and differ from each
 * other.
 */
export function checkNames(
  clients: readonly ClientRecord[], self: ClientRecord | undefined, name: string | undefined, tunnels: string[],
): void {
  for (const label of [name, ...tunnels]) {
    if (label && isNameTaken(clients, label, self)) {
      throw new RegistrationError(`The name "${label}" is taken by another client; choose another`, 409);
    }
  }
  if (new Set(tunnels).size !== tunnels.length || (name && tunnels.includes(name))) {
    throw new RegistrationError("tunnel names must differ from each other and from the client's name");
  }
}

/** Tells whether a client other than `self` uses `label` as its name or a tunnel's. */
function isNameTaken(clients: readonly ClientRecord[], label: string, self: ClientRecord | undefined): boolean {
  return clients.some((c) => c !== self && (c.name === label || c.tunnels?.some((t) => t.name === label)));
}
