/**
 * The shared store's schema, as numbered migrations. `petit server up` runs
 * the ones a database lacks, one transaction each, under a lock, so relays
 * starting together migrate once. A database newer than this petit is
 * refused rather than guessed at.
 * @module
 */
import type { PoolClient } from "pg";

/** Each entry moves the schema from version index to index + 1. Append only: never edit a released one. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE petit_meta (key text PRIMARY KEY, value text NOT NULL);
   INSERT INTO petit_meta (key, value) VALUES ('next_id', '1001'), ('version', '0');
   CREATE TABLE petit_clients (
     id integer PRIMARY KEY CHECK (id >= 1),
     fingerprint text NOT NULL UNIQUE,
     name text UNIQUE,
     record jsonb NOT NULL,
     last_seen timestamptz
   );
   CREATE TABLE petit_ports (
     port integer PRIMARY KEY CHECK (port BETWEEN 1 AND 65535),
     client_id integer NOT NULL REFERENCES petit_clients (id) ON DELETE CASCADE,
     tunnel text
   );
   CREATE TABLE petit_holds (
     kind text NOT NULL CHECK (kind IN ('port', 'name')),
     key text NOT NULL,
     client_id integer NOT NULL,
     until timestamptz NOT NULL,
     PRIMARY KEY (kind, key)
   );
   CREATE TABLE petit_nodes (
     name text PRIMARY KEY,
     address text NOT NULL,
     seen timestamptz NOT NULL
   );
   CREATE TABLE petit_presence (
     client_id integer PRIMARY KEY REFERENCES petit_clients (id) ON DELETE CASCADE,
     node text NOT NULL,
     seen timestamptz NOT NULL
   );
   CREATE TABLE petit_nonces (nonce text PRIMARY KEY, until timestamptz NOT NULL);`,
  // 2: where clients reach each relay's sshd, so a client can move to another relay when its own goes.
  `ALTER TABLE petit_nodes
     ADD COLUMN ssh_host text NOT NULL DEFAULT '',
     ADD COLUMN ssh_port integer NOT NULL DEFAULT 0,
     ADD COLUMN host_key text NOT NULL DEFAULT '';`,
  // 3: the secret relays sign their forwarded connections with (forward-to-peer.ts), made once, here, by the database:
  // two gen_random_uuid() (pg_strong_random, 122 random bits each) give 244 bits, with no extension needed.
  `INSERT INTO petit_meta (key, value)
     VALUES ('node_secret', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
     ON CONFLICT (key) DO NOTHING;`,
  // 4: where clients reach each relay's API, to ask the relay they are on for the current signed relay list.
  `ALTER TABLE petit_nodes ADD COLUMN api_url text NOT NULL DEFAULT '';`,
  // 5: extra enrollment tokens shared by every relay (each relay mirrors them into its tokens.json).
  `CREATE TABLE petit_tokens (
     id text PRIMARY KEY,
     secret text NOT NULL,
     label text NOT NULL,
     created timestamptz NOT NULL,
     expires timestamptz,
     uses_left integer CHECK (uses_left >= 0)
   );`,
  // 6: HTTP-01 challenges a relay placed, so whichever relay the CA reaches can answer (acme/challenges.ts).
  `CREATE TABLE petit_acme_challenges (token text PRIMARY KEY, key_authorization text NOT NULL, until timestamptz NOT NULL);`,
];

/** The schema version this petit writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Serializes migrations of all relays on one database (pg_advisory_xact_lock). */
const MIGRATION_LOCK = 0x7065_7469_01;

/** Brings the database to SCHEMA_VERSION; returns the versions it went from and to. Throws if the database is newer. */
export async function migrate(db: PoolClient): Promise<{ from: number; to: number }> {
  await db.query("BEGIN");
  try {
    await db.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await db.query("CREATE TABLE IF NOT EXISTS petit_schema (version integer NOT NULL, applied timestamptz NOT NULL DEFAULT now())");
    const from = await schemaVersion(db);
    if (from > SCHEMA_VERSION) {
      throw new Error(`the store's schema is version ${from}, newer than this petit's ${SCHEMA_VERSION}: upgrade petit on this relay`);
    }
    for (let v = from; v < SCHEMA_VERSION; v++) {
      await db.query(MIGRATIONS[v]);
      await db.query("INSERT INTO petit_schema (version) VALUES ($1)", [v + 1]);
    }
    await db.query("COMMIT");
    return { from, to: SCHEMA_VERSION };
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** The schema version of the database (0: none yet). */
export async function schemaVersion(db: Pick<PoolClient, "query">): Promise<number> {
  const { rows } = await db.query<{ v: number | null }>("SELECT max(version) AS v FROM petit_schema");
  return rows[0]?.v ?? 0;
}
