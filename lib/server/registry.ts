/**
 * The relay's durable list of clients: who is registered, with which key,
 * on which port. It is the one seam between the SSH side (which writes it and
 * derives authorized_keys from it) and the proxy (which reads it).
 * @module
 */
import { randomBytes } from "node:crypto";
import { FIRST_CLIENT_ID } from "../constants.ts";
import { dirname } from "node:path";
import { removeStaleTempFiles, writeFileAtomic } from "../fs-atomic.ts";
import { renderAuthorizedKeys } from "../ssh/authorized-keys.ts";
import type { PublicKey } from "../ssh/public-key.ts";
import { readRegistryFile } from "./registry-file.ts";

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

/** Returns every relay port of `client`: the main one first. */
export function portsOf(client: ClientRecord): number[] {
  return [client.port, ...(client.tunnels ?? []).map((t) => t.port)];
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

/** Returns new access rules: a fresh token, not public, any source. */
export function newAccess(): Access {
  return { token: randomBytes(24).toString("base64url").replace(/^-/, "a"), public: false, allow_from: [] };
}

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

/** A registration that cannot be accepted because of what the caller sent. */
export class RegistrationError extends Error {
  override name = "RegistrationError";
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

/** The registry. Writes are serialized; every write rewrites authorized_keys to match. */
export class Registry {
  #clients: ClientRecord[];
  /** Never reused, even after a revoke: an old URL must not reach a new client. */
  #nextId: number;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly options: RegistryOptions, clients: ClientRecord[], nextId: number) {
    this.#clients = clients;
    this.#nextId = Math.max(nextId, FIRST_CLIENT_ID, ...clients.map((c) => c.id + 1));
  }

  /**
   * Loads the registry and rewrites authorized_keys from it, so a crash
   * between the two writes of a registration leaves nothing out of step.
   */
  static open(options: RegistryOptions): Registry {
    const { clients: stored, nextId } = readRegistryFile(options.file);
    // Records from before visitor access existed get a token now, saved at once so it stays stable.
    const missingAccess = stored.some((c) => !c.access);
    const clients = stored.map((c) => (c.access ? c : { ...c, access: newAccess() }));
    const registry = new Registry(options, clients, nextId);
    if (!options.readOnly) {
      removeStaleTempFiles(dirname(options.file));
      if (missingAccess) registry.#save(clients, false);
      registry.#writeAuthorizedKeys();
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
      for (const label of [name, ...tunnels]) {
        if (label && this.#nameTaken(label, existing)) {
          throw new RegistrationError(`The name "${label}" is taken by another client; choose another`, 409);
        }
      }
      if (new Set(tunnels).size !== tunnels.length || (name && tunnels.includes(name))) {
        throw new RegistrationError("tunnel names must differ from each other and from the client's name");
      }
      const base: ClientRecord = existing ?? {
        id: this.#nextId, name: "", port: await this.#freePort(), key, created: new Date().toISOString(),
        last_seen: null, access: newAccess(),
      };
      const updated: ClientRecord = { ...base, name: name ?? base.name, tunnels: await this.#syncTunnels(base, tunnels) };
      if (!existing) this.#nextId++;
      if (existing && JSON.stringify(existing) === JSON.stringify(updated)) return { client: existing, created: false };
      this.#save(existing ? this.#clients.map((c) => (c === existing ? updated : c)) : [...this.#clients, updated]);
      return { client: updated, created: !existing };
    });
  }

  #nameTaken(label: string, self: ClientRecord | undefined): boolean {
    return this.#clients.some((c) => c !== self && (c.name === label || c.tunnels?.some((t) => t.name === label)));
  }

  /** Keeps the ports of tunnels still wanted and hands new ones a free port. */
  async #syncTunnels(client: ClientRecord, names: string[]): Promise<TunnelRecord[]> {
    const out: TunnelRecord[] = [];
    const reserved = new Set([client.port]);
    for (const name of names) {
      const kept = client.tunnels?.find((t) => t.name === name);
      const port = kept?.port ?? await this.#freePort(reserved);
      reserved.add(port);
      out.push({ name, port });
    }
    return out;
  }

  /** Changes client `id`'s visitor access: a new token, public or not, source networks. */
  updateAccess(id: number, change: { rotate?: boolean; public?: boolean; allow_from?: string[] }): Promise<ClientRecord> {
    return this.#serialize(async () => {
      const client = this.#clients.find((c) => c.id === id);
      if (!client) throw new RegistrationError(`no client ${id} is registered`, 404);
      const access: Access = {
        token: change.rotate ? newAccess().token : client.access.token,
        public: change.public ?? client.access.public,
        allow_from: change.allow_from ?? client.access.allow_from,
      };
      const updated = { ...client, access };
      this.#save(this.#clients.map((c) => (c === client ? updated : c)), false);
      return updated;
    });
  }

  /** Removes client `id` and its key; returns the removed record, or undefined when there was none. */
  revoke(id: number): Promise<ClientRecord | undefined> {
    return this.#serialize(async () => {
      const client = this.#clients.find((c) => c.id === id);
      if (client) this.#save(this.#clients.filter((c) => c !== client));
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

  async #freePort(reserved: Set<number> = new Set()): Promise<number> {
    const taken = new Set([...reserved, ...this.#clients.flatMap(portsOf)]);
    const { first, last } = this.options.range;
    for (let port = first; port <= last; port++) {
      if (taken.has(port)) continue;
      if (this.options.isPortFree && !(await this.options.isPortFree(port))) continue;
      return port;
    }
    throw new RegistrationError(`No free tunnel port left in ${first}-${last}; widen server.port_range`, 503);
  }

  #save(clients: ClientRecord[], keysChanged = true): void {
    const data = { version: 1, next_id: this.#nextId, clients };
    writeFileAtomic(this.options.file, JSON.stringify(data, null, 2) + "\n", 0o600);
    this.#clients = clients;
    if (keysChanged) this.#writeAuthorizedKeys();
  }

  #writeAuthorizedKeys(): void {
    const grants = this.#clients.map((c) => ({ id: c.id, key: c.key, ports: portsOf(c) }));
    writeFileAtomic(this.options.authorizedKeys, renderAuthorizedKeys(grants), 0o600);
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
