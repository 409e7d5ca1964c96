/**
 * Where the registry keeps its state: the seam between the registry's rules
 * (registry.ts) and its storage. The embedded default is registry.json and
 * authorized_keys beside it; several relays share PostgreSQL instead
 * (server/store/pg-registry.ts).
 * @module
 */
import { dirname } from "node:path";
import { removeStaleTempFiles, writeFileAtomic } from "../../fs-atomic.ts";
import { readRegistryFile } from "./file.ts";
import { noHolds } from "./holds.ts";
import { newAccess } from "./records.ts";
import { authorizedKeysText, writeRegistry, type RegistryState } from "./save.ts";

/** What a change to the registry gives back: the state to save (none: nothing changed) and its answer. */
export interface Change<T> {
  state?: RegistryState;
  /** True when keys or ports changed, so authorized_keys must be rewritten. */
  keysChanged?: boolean;
  result: T;
}

/** A place the registry's state lives. */
export interface RegistryBackend {
  /** The state to start from. */
  load(): Promise<RegistryState>;
  /**
   * Runs `change` on the latest state and saves what it returns, atomically:
   * a change that throws or fails to save changes nothing. `current` is the
   * state the registry holds in memory (a shared store reads its own).
   * Resolves with the state now in force.
   */
  update<T>(current: RegistryState, change: (state: RegistryState) => Promise<Change<T>>): Promise<{ state: RegistryState; result: T }>;
  /** Records when clients were last seen; may skip the full update for this frequent, harmless write. */
  markSeen?(ids: number[], when: Date): Promise<void>;
  /** Records that the clients with `ids` are no longer connected to this relay (a shared store's presence). */
  markGone?(ids: number[]): Promise<void>;
  /** Which relay each connected client is on, as the relays last recorded it (a shared store's presence). */
  presence?(): Promise<Map<number, { node: string; seen: string }>>;
}

/** registry.json and authorized_keys, the single relay's embedded store. */
export class FileBackend implements RegistryBackend {
  constructor(private readonly paths: { file: string; authorizedKeys: string; readOnly?: boolean }) {}

  async load(): Promise<RegistryState> {
    return this.loadSync();
  }

  /** Reads registry.json and rewrites authorized_keys from it, so a crash between the two writes leaves nothing out of step. */
  loadSync(): RegistryState {
    const { clients: stored, nextId, holds } = readRegistryFile(this.paths.file);
    // Records from before visitor access existed get a token now, saved at once so it stays stable.
    const missingAccess = stored.some((c) => !c.access);
    const state = { clients: stored.map((c) => (c.access ? c : { ...c, access: newAccess() })), nextId, holds: holds ?? noHolds() };
    if (!this.paths.readOnly) {
      removeStaleTempFiles(dirname(this.paths.file));
      if (missingAccess) writeRegistry(this.paths, state, false);
      writeFileAtomic(this.paths.authorizedKeys, authorizedKeysText(state.clients), 0o600);
    }
    return state;
  }

  async update<T>(current: RegistryState, change: (state: RegistryState) => Promise<Change<T>>): Promise<{ state: RegistryState; result: T }> {
    const { state, keysChanged = false, result } = await change(current);
    if (!state) return { state: current, result };
    // Both files staged before either is replaced; a failed write throws and changes nothing.
    const holds = writeRegistry(this.paths, state, keysChanged);
    return { state: { ...state, holds }, result };
  }
}
