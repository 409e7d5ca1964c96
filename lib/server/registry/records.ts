/**
 * The registry's records: what registry.json holds for each client, and how
 * a new client's record and its access rules are made. Pure: nothing here
 * reads or writes a file.
 * @module
 */
import { randomBytes } from "node:crypto";
import type { PublicKey } from "../../ssh/public-key.ts";

/** One registered client. */
export interface ClientRecord {
  id: number;
  name: string;
  port: number;
  key: PublicKey;
  created: string;
  last_seen: string | null;
  /** Who may reach this client's service through the proxy. */
  access: Access;
  /** Further services of this client, each with its own name and relay port, on the same ssh connection. */
  tunnels?: TunnelRecord[];
}

/** One extra service of a client: reached at `<name>.<domain>`. */
export interface TunnelRecord {
  name: string;
  port: number;
}

/** Where a label leads: the client and one of its relay ports. */
export interface RouteRecord {
  client: ClientRecord;
  port: number;
}

/** A client's visitor access rules. */
export interface Access {
  /** Visitors present it as `Proxy-Authorization: Bearer …` (or X-Petit-Token). */
  token: string;
  /** True: no token needed (set explicitly with `petit server access ID --public`). */
  public: boolean;
  /** Source networks (CIDR) allowed in addition to the relay's; empty: any. */
  allow_from: string[];
}

/** A change to a client's access rules: a new token, public or not, source networks. */
export interface AccessChange {
  rotate?: boolean;
  public?: boolean;
  allow_from?: string[];
}

/** Returns every relay port of `client`: the main one first. */
export function portsOf(client: ClientRecord): number[] {
  return [client.port, ...(client.tunnels ?? []).map((t) => t.port)];
}

/** Returns new access rules: a fresh token, not public, any source. */
export function newAccess(): Access {
  return { token: randomBytes(24).toString("base64url").replace(/^-/, "a"), public: false, allow_from: [] };
}

/** Returns `access` with `change` applied; what the change leaves out stays as it was. */
export function applyAccessChange(access: Access, change: AccessChange): Access {
  return {
    token: change.rotate ? newAccess().token : access.token,
    public: change.public ?? access.public,
    allow_from: change.allow_from ?? access.allow_from,
  };
}

/** Returns the record of a newly registered client: no name yet, never seen, fresh access rules. */
export function buildClientRecord(id: number, port: number, key: PublicKey): ClientRecord {
  return { id, name: "", port, key, created: new Date().toISOString(), last_seen: null, access: newAccess() };
}

/** The names `client` answers to: its own and its tunnels'. */
export function namesOf(client: ClientRecord): string[] {
  return [client.name, ...(client.tunnels ?? []).map((t) => t.name)].filter(Boolean);
}

/** The ports and names `before` had that `after` (the same client) no longer has. */
export function droppedBy(before: ClientRecord, after: ClientRecord): { ports: number[]; names: string[] } {
  const ports = portsOf(after);
  const names = namesOf(after);
  return { ports: portsOf(before).filter((p) => !ports.includes(p)), names: namesOf(before).filter((n) => !names.includes(n)) };
}
