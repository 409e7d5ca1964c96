/**
 * The registry kept in PostgreSQL, for several relays: one row per client
 * (its record as JSON beside the columns the constraints need), one per
 * relay port, the holds, and the next ID. Every change runs under one lock
 * on the freshest rows, with unique constraints on key, name and port as the
 * second guard, then bumps a version and NOTIFYs the other relays.
 * @module
 */
import type { PoolClient } from "pg";
import type { Change, RegistryBackend } from "../registry/backend.ts";
import { checkHolds, checkRecord } from "../registry/file.ts";
import { liveHolds, type Holds } from "../registry/holds.ts";
import type { ClientRecord } from "../registry/records.ts";
import type { RegistryState } from "../registry/save.ts";
import type { PgStore } from "./pg-store.ts";

/** The channel relays NOTIFY on after a change; the payload is the new version. */
export const REGISTRY_CHANNEL = "petit_registry";

/** A RegistryBackend on a PgStore; `node` names this relay in the presence rows. */
export class PgRegistry implements RegistryBackend {
  constructor(private readonly store: PgStore, private readonly node: string) {}

  load(): Promise<RegistryState> {
    return this.store.transact(loadState);
  }

  update<T>(_current: RegistryState, change: (state: RegistryState) => Promise<Change<T>>): Promise<{ state: RegistryState; result: T }> {
    return this.store.transact(async (db) => {
      const before = await loadState(db);
      const { state, result } = await change(before);
      if (!state) return { state: before, result };
      const saved = { ...state, holds: liveHolds(state.holds) };
      await saveState(db, before, saved);
      return { state: saved, result };
    });
  }

  async markSeen(ids: number[], when: Date): Promise<void> {
    await this.store.query("UPDATE petit_clients SET last_seen = $2 WHERE id = ANY($1)", [ids, when]);
    await this.store.query(
      `INSERT INTO petit_presence (client_id, node, seen) SELECT id, $2, $3 FROM petit_clients WHERE id = ANY($1)
       ON CONFLICT (client_id) DO UPDATE SET node = EXCLUDED.node, seen = EXCLUDED.seen`, [ids, this.node, when],
    );
  }

  async markGone(ids: number[]): Promise<void> {
    await this.store.query("DELETE FROM petit_presence WHERE client_id = ANY($1) AND node = $2", [ids, this.node]);
  }

  async presence(): Promise<Map<number, { node: string; seen: string }>> {
    const { rows } = await this.store.query<{ client_id: number; node: string; seen: Date }>("SELECT client_id, node, seen FROM petit_presence");
    return new Map(rows.map((r) => [r.client_id, { node: r.node, seen: r.seen.toISOString() }]));
  }

  /** The version the last change left (it only grows). */
  async version(): Promise<string> {
    const { rows } = await this.store.query<{ value: string }>("SELECT value FROM petit_meta WHERE key = 'version'");
    return rows[0]?.value ?? "0";
  }
}

/** Reads the whole registry, checking each record as registry.json's are checked: a bad row must not reach authorized_keys. */
async function loadState(db: PoolClient): Promise<RegistryState> {
  const clients = (await db.query<{ record: ClientRecord; last_seen: Date | null }>(
    "SELECT record, last_seen FROM petit_clients ORDER BY id",
  )).rows.map((row, i) => {
    const record = { ...row.record, last_seen: row.last_seen ? row.last_seen.toISOString() : null };
    checkRecord(record, i);
    return record;
  });
  const holds: Holds = { ports: {}, names: {} };
  for (const row of (await db.query<{ kind: "port" | "name"; key: string; client_id: number; until: Date }>(
    "SELECT kind, key, client_id, until FROM petit_holds",
  )).rows) {
    holds[row.kind === "port" ? "ports" : "names"][row.key] = { id: row.client_id, until: row.until.toISOString() };
  }
  checkHolds(holds);
  const meta = (await db.query<{ value: string }>("SELECT value FROM petit_meta WHERE key = 'next_id'")).rows[0];
  return { clients, nextId: Number(meta?.value ?? 1001), holds };
}

/** Writes what changed from `before` to `after` (in the caller's transaction), bumps the version and notifies. */
async function saveState(db: PoolClient, before: RegistryState, after: RegistryState): Promise<void> {
  const old = new Map(before.clients.map((c) => [c.id, JSON.stringify(c)]));
  const kept = new Set(after.clients.map((c) => c.id));
  const removed = before.clients.filter((c) => !kept.has(c.id)).map((c) => c.id);
  const changed = after.clients.filter((c) => old.get(c.id) !== JSON.stringify(c));
  // Rows of gone and changed clients first, so a port or name moving between them never trips a constraint midway.
  if (removed.length) await db.query("DELETE FROM petit_clients WHERE id = ANY($1)", [removed]);
  if (changed.length) await db.query("DELETE FROM petit_ports WHERE client_id = ANY($1)", [changed.map((c) => c.id)]);
  for (const c of changed) {
    const { last_seen: lastSeen, ...record } = c;
    await db.query(
      `INSERT INTO petit_clients (id, fingerprint, name, record, last_seen) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, name = EXCLUDED.name, record = EXCLUDED.record, last_seen = EXCLUDED.last_seen`,
      [c.id, c.key.fingerprint, c.name || null, record, lastSeen],
    );
    const ports = [{ port: c.port, tunnel: null as string | null }, ...(c.tunnels ?? []).map((t) => ({ port: t.port, tunnel: t.name }))];
    for (const p of ports) await db.query("INSERT INTO petit_ports (port, client_id, tunnel) VALUES ($1, $2, $3)", [p.port, c.id, p.tunnel]);
  }
  await db.query("DELETE FROM petit_holds");
  for (const [kind, map] of [["port", after.holds.ports], ["name", after.holds.names]] as const) {
    for (const [key, hold] of Object.entries(map)) {
      await db.query("INSERT INTO petit_holds (kind, key, client_id, until) VALUES ($1, $2, $3, $4)", [kind, key, hold.id, hold.until]);
    }
  }
  await db.query("UPDATE petit_meta SET value = $1 WHERE key = 'next_id'", [String(after.nextId)]);
  const { rows } = await db.query<{ value: string }>(
    "UPDATE petit_meta SET value = (value::bigint + 1)::text WHERE key = 'version' RETURNING value",
  );
  // Delivered at commit, and only then: a rolled-back change wakes nobody.
  await db.query("SELECT pg_notify($1, $2)", [REGISTRY_CHANNEL, rows[0].value]);
}
