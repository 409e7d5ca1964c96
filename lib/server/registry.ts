/**
 * The relay's durable list of clients: who is registered, with which key,
 * on which port. It is the one seam between the SSH side (which writes it and
 * derives authorized_keys from it) and the proxy (which reads it).
 * @module
 */
import { randomBytes } from "node:crypto";
import { FIRST_CLIENT_ID } from "../constants.ts";
import { readFileIfExists, writeFileAtomic } from "../fs-atomic.ts";
import { renderAuthorizedKeys } from "../ssh/authorized-keys.ts";
import { parsePublicKey, type PublicKey } from "../ssh/public-key.ts";

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

/**
 * Throws unless `record` is a well-formed client: a file edited by hand must
 * never put an unchecked key (or a newline) into authorized_keys.
 */
function checkRecord(record: ClientRecord, index: number): void {
  const where = `client #${index + 1}`;
  if (typeof record !== "object" || record === null) throw new Error(`${where} is not an object`);
  if (!Number.isInteger(record.id) || !Number.isInteger(record.port) || record.port < 1 || record.port > 65535) {
    throw new Error(`${where} needs whole-number "id" and "port"`);
  }
  try {
    const key = parsePublicKey(`${record.key?.type} ${record.key?.blob}`);
    if (key.fingerprint !== record.key.fingerprint) throw new Error("its fingerprint does not match its key");
  } catch (error) {
    throw new Error(`${where} (id ${record.id}) has a bad key: ${(error as Error).message}`);
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
    const text = readFileIfExists(options.file);
    let clients: ClientRecord[] = [];
    let nextId = FIRST_CLIENT_ID;
    if (text !== undefined) {
      try {
        const data = JSON.parse(text) as { clients: ClientRecord[]; next_id?: number };
        clients = data.clients;
        nextId = Number.isInteger(data.next_id) ? data.next_id! : nextId;
        if (!Array.isArray(clients)) throw new Error('"clients" is not a list');
        clients.forEach(checkRecord);
      } catch (error) {
        throw new Error(
          `Cannot read registry "${options.file}": ${(error as Error).message} ` +
            "(restore it from a backup; petit never writes it partially)",
          { cause: error },
        );
      }
    }
    // Records from before visitor access existed get a token now, saved at once so it stays stable.
    const missingAccess = clients.some((c) => !c.access);
    clients = clients.map((c) => (c.access ? c : { ...c, access: newAccess() }));
    const registry = new Registry(options, clients, nextId);
    if (!options.readOnly) {
      if (missingAccess) registry.#save(clients, false);
      registry.#writeAuthorizedKeys();
    }
    return registry;
  }

  /** All clients, in ID order. */
  list(): readonly ClientRecord[] {
    return this.#clients;
  }

  /** Finds a client by ID ("1001") or name, case-insensitively. */
  lookup(label: string): ClientRecord | undefined {
    const lower = label.toLowerCase();
    if (/^\d+$/.test(lower)) return this.#clients.find((c) => String(c.id) === lower);
    return this.#clients.find((c) => c.name === lower);
  }

  /**
   * Registers `key`, or returns the existing record when the key is already
   * registered (same ID and port; a new name replaces the old one).
   */
  register(key: PublicKey, name: string | undefined): Promise<{ client: ClientRecord; created: boolean }> {
    return this.#serialize(async () => {
      const existing = this.#clients.find((c) => c.key.fingerprint === key.fingerprint);
      if (name && this.#clients.some((c) => c.name === name && c !== existing)) {
        throw new RegistrationError(`The name "${name}" is taken by another client; choose another with --name`, 409);
      }
      if (existing) {
        if (name && name !== existing.name) {
          this.#save(this.#clients.map((c) => (c === existing ? { ...c, name } : c)));
        }
        return { client: this.lookup(String(existing.id))!, created: false };
      }
      const port = await this.#freePort();
      const id = this.#nextId++;
      const client: ClientRecord = {
        id, name: name ?? "", port, key, created: new Date().toISOString(), last_seen: null, access: newAccess(),
      };
      this.#save([...this.#clients, client]);
      return { client, created: true };
    });
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

  async #freePort(): Promise<number> {
    const taken = new Set(this.#clients.map((c) => c.port));
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
    const grants = this.#clients.map((c) => ({ id: c.id, key: c.key, ports: [c.port] }));
    writeFileAtomic(this.options.authorizedKeys, renderAuthorizedKeys(grants), 0o600);
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
