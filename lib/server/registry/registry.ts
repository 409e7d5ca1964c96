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
import { writeFileAtomic } from "../../fs-atomic.ts";
import type { PublicKey } from "../../ssh/public-key.ts";
import { FileBackend, type Change, type RegistryBackend } from "./backend.ts";
import { checkNames, RegistrationError } from "./checks.ts";
import { assignTunnelPorts, findFreePort } from "./ports.ts";
import { addHolds, nameRefusal, portsHeldFrom, releaseHolds } from "./holds.ts";
import {
  applyAccessChange, buildClientRecord, droppedBy, namesOf, portsOf,
  type AccessChange, type ClientRecord, type RouteRecord,
} from "./records.ts";
import { authorizedKeysText, type RegistryState } from "./save.ts";

// The registry's public face: what other modules import from here, wherever it is defined.
export { RegistrationError } from "./checks.ts";
export type { RegistryState } from "./save.ts";
export type { RegistryBackend, Change } from "./backend.ts";
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
  #state: RegistryState;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly options: RegistryOptions, private readonly backend: RegistryBackend, state: RegistryState) {
    this.#state = Registry.#withNextId(state);
  }

  /** Opens the embedded registry: registry.json, with authorized_keys rewritten from it. */
  static open(options: RegistryOptions): Registry {
    const backend = new FileBackend(options);
    return new Registry(options, backend, backend.loadSync());
  }

  /** Opens a registry kept elsewhere (a store several relays share); authorized_keys is written here from it. */
  static async openWith(options: RegistryOptions, backend: RegistryBackend): Promise<Registry> {
    const registry = new Registry(options, backend, await backend.load());
    if (!options.readOnly) writeFileAtomic(options.authorizedKeys, authorizedKeysText(registry.list()), 0o600);
    return registry;
  }

  /** IDs are never reused, even after a revoke: an old URL must not reach a new client. */
  static #withNextId(state: RegistryState): RegistryState {
    return { ...state, nextId: Math.max(state.nextId, FIRST_CLIENT_ID, ...state.clients.map((c) => c.id + 1)) };
  }

  /** All clients, in ID order. */
  list(): readonly ClientRecord[] {
    return this.#state.clients;
  }

  /** Finds the client and port a label names: a client's ID or name (its main port), or one of its tunnels' names. */
  route(label: string): RouteRecord | undefined {
    const client = this.lookup(label);
    if (client) return { client, port: client.port };
    const lower = label.toLowerCase();
    for (const c of this.#state.clients) {
      const tunnel = c.tunnels?.find((t) => t.name === lower);
      if (tunnel) return { client: c, port: tunnel.port };
    }
    return undefined;
  }

  /** Returns the client holding relay port `port`, if any. */
  ownerOf(port: number): ClientRecord | undefined {
    return this.#state.clients.find((c) => portsOf(c).includes(port));
  }

  /** Finds a client by ID ("1001") or name, case-insensitively. */
  lookup(label: string): ClientRecord | undefined {
    const lower = label.toLowerCase();
    if (/^\d+$/.test(lower)) return this.#state.clients.find((c) => String(c.id) === lower);
    return this.#state.clients.find((c) => c.name === lower);
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
    return this.#update(async (s) => {
      const existing = s.clients.find((c) => c.key.fingerprint === key.fingerprint);
      checkNames(s.clients, existing, name, tunnels);
      const id = existing?.id ?? s.nextId;
      for (const label of [name, ...tunnels]) {
        // Names the client already has stay its own, even ones reserved after it took them.
        const why = label && !(existing && namesOf(existing).includes(label)) && nameRefusal(s.holds, id, label);
        if (why) throw new RegistrationError(why, 409);
      }
      const base = existing ?? buildClientRecord(id, await this.#freePort(s, id), key);
      const updated: ClientRecord = {
        ...base, name: name ?? base.name, tunnels: await assignTunnelPorts(base, tunnels, (reserved) => this.#freePort(s, id, reserved)),
      };
      if (existing && JSON.stringify(existing) === JSON.stringify(updated)) return { result: { client: existing, created: false } };
      const clients = existing ? s.clients.map((c) => (c === existing ? updated : c)) : [...s.clients, updated];
      // What the client dropped (a tunnel, a name) is held for it; what it took back is its own again.
      const dropped = existing ? droppedBy(existing, updated) : { ports: [], names: [] };
      const holds = addHolds(releaseHolds(s.holds, portsOf(updated), namesOf(updated)), id, dropped.ports, dropped.names);
      // The ID is spent only once the registration is saved.
      const nextId = existing ? s.nextId : s.nextId + 1;
      return { state: { clients, nextId, holds }, keysChanged: true, result: { client: updated, created: !existing } };
    });
  }

  /** Changes client `id`'s visitor access: a new token, public or not, source networks. */
  updateAccess(id: number, change: AccessChange): Promise<ClientRecord> {
    return this.#update(async (s) => {
      const client = s.clients.find((c) => c.id === id);
      if (!client) throw new RegistrationError(`no client ${id} is registered`, 404);
      const updated = { ...client, access: applyAccessChange(client.access, change) };
      return { state: { ...s, clients: s.clients.map((c) => (c === client ? updated : c)) }, result: updated };
    });
  }

  /**
   * Removes client `id` and its key; returns the removed record, or undefined
   * when there was none. Its ports are held from other clients for a day, its
   * names for a month unless `freeNames`.
   */
  revoke(id: number, options: { freeNames?: boolean } = {}): Promise<ClientRecord | undefined> {
    return this.#update(async (s) => {
      const client = s.clients.find((c) => c.id === id);
      if (!client) return { result: undefined };
      const holds = addHolds(s.holds, id, portsOf(client), options.freeNames ? [] : namesOf(client));
      return { state: { ...s, clients: s.clients.filter((c) => c !== client), holds }, keysChanged: true, result: client };
    });
  }

  /** Records that the clients with `ids` were seen connected at `when`. */
  markSeen(ids: number[], when = new Date()): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    const seen = new Set(ids);
    const stamp = (clients: readonly ClientRecord[]) => clients.map((c) => (seen.has(c.id) ? { ...c, last_seen: when.toISOString() } : c));
    const { backend } = this;
    if (backend.markSeen) {
      return this.#serialize(async () => {
        await backend.markSeen!(ids, when);
        this.#state = { ...this.#state, clients: stamp(this.#state.clients) };
      });
    }
    // Only times change: authorized_keys stays as it is.
    return this.#update(async (s) => ({ state: { ...s, clients: stamp(s.clients) }, result: undefined }));
  }

  /** Records that clients `ids` left this relay (only a shared store keeps that; errors are the caller's to ignore). */
  async markGone(ids: number[]): Promise<void> {
    if (ids.length) await this.backend.markGone?.(ids);
  }

  /** Which relay each connected client is on, when a shared store records it; empty otherwise or while it is away. */
  async presenceElsewhere(): Promise<Map<number, { node: string; seen: string }>> {
    return (await this.backend.presence?.().catch(() => undefined)) ?? new Map();
  }

  /**
   * Reads the state again with `load` (a shared store that another relay
   * changed) and takes it as the registry's; rewrites authorized_keys when keys
   * or ports changed. Returns the clients that are gone, whose sessions must
   * end. The read runs in turn with this relay's own changes: a state read
   * before one of them must not replace it.
   */
  reload(load: () => Promise<RegistryState>): Promise<ClientRecord[]> {
    return this.#serialize(async () => this.#adopt(Registry.#withNextId(await load())));
  }

  #adopt(state: RegistryState): ClientRecord[] {
    const before = this.#state;
    const gone = before.clients.filter((c) => !state.clients.some((n) => n.id === c.id && n.key.fingerprint === c.key.fingerprint));
    const keys = (s: RegistryState) => authorizedKeysText(s.clients);
    if (!this.options.readOnly && !(this.backend instanceof FileBackend) && keys(before) !== keys(state)) {
      writeFileAtomic(this.options.authorizedKeys, keys(state), 0o600);
    }
    this.#state = state;
    return gone;
  }

  /** Returns a port for client `id` that no client holds (nor any of `reserved`, nor one held for another client) and is free. */
  #freePort(s: RegistryState, id: number, reserved: Set<number> = new Set()): Promise<number> {
    const taken = new Set([...reserved, ...s.clients.flatMap(portsOf), ...portsHeldFrom(s.holds, id)]);
    return findFreePort(this.options.range, taken, this.options.isPortFree);
  }

  /**
   * Applies a change through the backend, which saves it (registry.json and
   * authorized_keys both staged before either is replaced, or one
   * transaction of the shared store); only then does the registry in memory
   * change. A failed save changes nothing, on disk or in memory.
   */
  #update<T>(change: (state: RegistryState) => Promise<Change<T>>): Promise<T> {
    return this.#serialize(async () => {
      const { state, result } = await this.backend.update(this.#state, async (s) => change(Registry.#withNextId(s)));
      this.#adopt(state);
      return result;
    });
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
