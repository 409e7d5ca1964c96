/**
 * The relay's durable list of clients: who is registered, with which key,
 * on which port. It is the one seam between the SSH side (which writes it and
 * derives authorized_keys from it) and the proxy (which reads it). This file
 * owns the state and its writes; the records, the name checks and the port
 * allocation are pure, in records.ts, checks.ts and ports.ts (re-exported
 * here); the writing of both files is in save.ts.
 * @module
 */
import { FIRST_CLIENT_ID } from "../../constants.ts";
import { dirname } from "node:path";
import { removeStaleTempFiles, writeFileAtomic } from "../../fs-atomic.ts";
import type { PublicKey } from "../../ssh/public-key.ts";
import { checkNames, RegistrationError } from "./checks.ts";
import { readRegistryFile } from "./file.ts";
import { assignTunnelPorts, findFreePort } from "./ports.ts";
import { addHolds, nameRefusal, noHolds, portsHeldFrom, releaseHolds, type Holds } from "./holds.ts";
import {
  applyAccessChange, buildClientRecord, droppedBy, namesOf, newAccess, portsOf,
  type AccessChange, type ClientRecord, type RouteRecord,
} from "./records.ts";
import { authorizedKeysText, writeRegistry } from "./save.ts";

// The registry's public face: what other modules import from here, wherever it is defined.
export { RegistrationError } from "./checks.ts";
export {
  newAccess, portsOf,
  type Access, type AccessChange, type ClientRecord, type RouteRecord, type TunnelRecord,
} from "./records.ts";

/** Where the registry keeps its state, and the ports it may hand out. */
export interface RegistryOptions {
  file: string;
  authorizedKeys: string;
  range: { first: number; last: number };
  /** Answers whether a port is free to hand out (nothing else listens on it). */
  isPortFree?: (port: number) => Promise<boolean>;
  /** Only read: leave authorized_keys alone (for commands that just list). */
  readOnly?: boolean;
}

/** The registry. Writes are serialized; every write rewrites authorized_keys to match. */
export class Registry {
  #clients: ClientRecord[];
  /** Never reused, even after a revoke: an old URL must not reach a new client. */
  #nextId: number;
  /** Ports and names given up by clients, kept from others for a while (holds.ts). */
  #holds: Holds;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly options: RegistryOptions, clients: ClientRecord[], nextId: number, holds: Holds) {
    this.#clients = clients;
    this.#holds = holds;
    this.#nextId = Math.max(nextId, FIRST_CLIENT_ID, ...clients.map((c) => c.id + 1));
  }

  /**
   * Loads the registry and rewrites authorized_keys from it, so a crash
   * between the two writes of a registration leaves nothing out of step.
   */
  static open(options: RegistryOptions): Registry {
    const { clients: stored, nextId, holds } = readRegistryFile(options.file);
    // Records from before visitor access existed get a token now, saved at once so it stays stable.
    const missingAccess = stored.some((c) => !c.access);
    const clients = stored.map((c) => (c.access ? c : { ...c, access: newAccess() }));
    const registry = new Registry(options, clients, nextId, holds ?? noHolds());
    if (!options.readOnly) {
      removeStaleTempFiles(dirname(options.file));
      if (missingAccess) registry.#save(clients, false);
      writeFileAtomic(options.authorizedKeys, authorizedKeysText(clients), 0o600);
    }
    return registry;
  }

  /** All clients, in ID order. */
  list(): readonly ClientRecord[] {
    return this.#clients;
  }

  /** Finds the client and port a label names: a client's ID or name (its main port), or one of its tunnels' names. */
  route(label: string): RouteRecord | undefined {
    const client = this.lookup(label);
    if (client) return { client, port: client.port };
    const lower = label.toLowerCase();
    for (const c of this.#clients) {
      const tunnel = c.tunnels?.find((t) => t.name === lower);
      if (tunnel) return { client: c, port: tunnel.port };
    }
    return undefined;
  }

  /** Returns the client holding relay port `port`, if any. */
  ownerOf(port: number): ClientRecord | undefined {
    return this.#clients.find((c) => portsOf(c).includes(port));
  }

  /** Finds a client by ID ("1001") or name, case-insensitively. */
  lookup(label: string): ClientRecord | undefined {
    const lower = label.toLowerCase();
    if (/^\d+$/.test(lower)) return this.#clients.find((c) => String(c.id) === lower);
    return this.#clients.find((c) => c.name === lower);
  }

  /**
   * Registers `key`, or returns the existing record when the key is already
   * registered (same ID and port; a new name replaces the old one). `tunnels`
   * names the client's further services: each keeps its port across
   * re-registrations, new ones get a port, missing ones are dropped.
   */
  register(
    key: PublicKey, name: string | undefined, tunnels: string[] = [],
  ): Promise<{ client: ClientRecord; created: boolean }> {
    return this.#serialize(async () => {
      const existing = this.#clients.find((c) => c.key.fingerprint === key.fingerprint);
      checkNames(this.#clients, existing, name, tunnels);
      const id = existing?.id ?? this.#nextId;
      for (const label of [name, ...tunnels]) {
        // Names the client already has stay its own, even ones reserved after it took them.
        const why = label && !(existing && namesOf(existing).includes(label)) && nameRefusal(this.#holds, id, label);
        if (why) throw new RegistrationError(why, 409);
      }
      const base = existing ?? buildClientRecord(id, await this.#freePort(id), key);
      const updated: ClientRecord = {
        ...base, name: name ?? base.name, tunnels: await assignTunnelPorts(base, tunnels, (reserved) => this.#freePort(id, reserved)),
      };
      if (existing && JSON.stringify(existing) === JSON.stringify(updated)) return { client: existing, created: false };
      const clients = existing ? this.#clients.map((c) => (c === existing ? updated : c)) : [...this.#clients, updated];
      // What the client dropped (a tunnel, a name) is held for it; what it took back is its own again.
      const dropped = existing ? droppedBy(existing, updated) : { ports: [], names: [] };
      const holds = addHolds(releaseHolds(this.#holds, portsOf(updated), namesOf(updated)), id, dropped.ports, dropped.names);
      // The ID is spent only once the registration is saved.
      this.#save(clients, true, existing ? this.#nextId : this.#nextId + 1, holds);
      return { client: updated, created: !existing };
    });
  }

  /** Changes client `id`'s visitor access: a new token, public or not, source networks. */
  updateAccess(id: number, change: AccessChange): Promise<ClientRecord> {
    return this.#serialize(async () => {
      const client = this.#clients.find((c) => c.id === id);
      if (!client) throw new RegistrationError(`no client ${id} is registered`, 404);
      const updated = { ...client, access: applyAccessChange(client.access, change) };
      this.#save(this.#clients.map((c) => (c === client ? updated : c)), false);
      return updated;
    });
  }

  /**
   * Removes client `id` and its key; returns the removed record, or undefined
   * when there was none. Its ports are held from other clients for a day, its
   * names for a month unless `freeNames`.
   */
  revoke(id: number, options: { freeNames?: boolean } = {}): Promise<ClientRecord | undefined> {
    return this.#serialize(async () => {
      const client = this.#clients.find((c) => c.id === id);
      if (!client) return undefined;
      const holds = addHolds(this.#holds, id, portsOf(client), options.freeNames ? [] : namesOf(client));
      this.#save(this.#clients.filter((c) => c !== client), true, this.#nextId, holds);
      return client;
    });
  }

  /** Records that the clients with `ids` were seen connected at `when`. */
  markSeen(ids: number[], when = new Date()): Promise<void> {
    return this.#serialize(async () => {
      if (ids.length === 0) return;
      const seen = new Set(ids);
      // Only times change: authorized_keys stays as it is.
      this.#save(this.#clients.map((c) => (seen.has(c.id) ? { ...c, last_seen: when.toISOString() } : c)), false);
    });
  }

  /** Returns a port for client `id` that no client holds (nor any of `reserved`, nor one held for another client) and is free. */
  #freePort(id: number, reserved: Set<number> = new Set()): Promise<number> {
    const taken = new Set([...reserved, ...this.#clients.flatMap(portsOf), ...portsHeldFrom(this.#holds, id)]);
    return findFreePort(this.options.range, taken, this.options.isPortFree);
  }

  /**
   * Writes registry.json (and authorized_keys, when keys changed) from
   * `clients`, both staged before either is replaced; only then does the
   * registry in memory change. A failed write changes nothing, on disk or in
   * memory; a full disk is the operator's to fix (507).
   */
  #save(clients: ClientRecord[], keysChanged = true, nextId = this.#nextId, holds = this.#holds): void {
    const live = writeRegistry(this.options, { clients, nextId, holds }, keysChanged);
    this.#clients = clients;
    this.#nextId = nextId;
    this.#holds = live;
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
