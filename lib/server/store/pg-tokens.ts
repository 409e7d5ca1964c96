/**
 * Enrollment tokens shared by relays with a store: extra tokens live in
 * `petit_tokens` and the main one in `petit_meta`; each relay keeps its
 * token files as a mirror (read by the proof check, which must not wait for
 * the database) and rewrites them when the store's version moves. A use is
 * taken in the database, so a one-use token enrols one client across all
 * relays, also when two registrations race on different relays.
 * @module
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { readSecret, newSecret } from "../../secrets.ts";
import { writeFileAtomic } from "../../fs-atomic.ts";
import { MAIN_TOKEN_ID, TokenStore, type TokenInfo, type TokenRecord } from "../tokens/tokens.ts";
import type { TokenUse } from "../tokens/token-uses.ts";
import { REGISTRY_CHANNEL } from "./pg-registry.ts";
import type { PgStore } from "./pg-store.ts";

/** The token files a relay mirrors. */
export interface TokenFiles {
  main: string;
  extra: string;
}

interface Row {
  id: string;
  secret: string;
  label: string;
  created: Date;
  expires: Date | null;
  uses_left: number | null;
}

/** The shared tokens of one relay's store, behind the same calls as TokenStore. */
export class SharedTokens {
  readonly #mirror: TokenStore;

  constructor(private readonly pg: PgStore, private readonly files: TokenFiles, private readonly log: (line: string) => void) {
    this.#mirror = new TokenStore(files);
  }

  /** Extra tokens made on this relay before it shared a store (or while it was down) join the store; a clashing id is said. */
  async importLocal(): Promise<void> {
    for (const record of new TokenStore(this.files).records()) {
      const { rowCount } = await this.pg.query(
        `INSERT INTO petit_tokens (id, secret, label, created, expires, uses_left) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [record.id, record.secret, record.label, record.created, record.expires, record.uses_left],
      );
      const { rows } = await this.pg.query<{ secret: string }>("SELECT secret FROM petit_tokens WHERE id = $1", [record.id]);
      if (!rowCount && rows[0]?.secret !== record.secret) {
        this.log(`enrollment token ${record.id} of this relay clashes with the store's token ${record.id}: it no longer works; create another`);
      }
    }
  }

  /** Rewrites the token files from the store (after a change anywhere). */
  async sync(): Promise<void> {
    const { rows } = await this.pg.query<Row>("SELECT id, secret, label, created, expires, uses_left FROM petit_tokens ORDER BY created, id");
    const records: TokenRecord[] = rows.map((r) => ({
      id: r.id, secret: r.secret, label: r.label, created: r.created.toISOString(), expires: r.expires?.toISOString() ?? null, uses_left: r.uses_left,
    }));
    this.#mirror.replace(records);
    const main = await this.pg.query<{ value: string }>("SELECT value FROM petit_meta WHERE key = 'enrollment_token'");
    const shared = main.rows[0]?.value;
    if (shared && shared !== readSecret(this.files.main)) writeFileAtomic(this.files.main, `${shared}\n`, 0o600);
  }

  list(now = Date.now()): TokenInfo[] {
    return this.#mirror.list(now);
  }

  async create(options: { label?: string; expiresIn?: number; uses?: number }, now = Date.now()): Promise<{ id: string; token: string }> {
    const secret = randomBytes(24).toString("hex");
    const id = await this.#change(async (db) => {
      const { rows } = await db.query<{ n: number }>(`SELECT coalesce(max(substring(id FROM 2)::integer), 0) + 1 AS n FROM petit_tokens WHERE id ~ '^t[0-9]{1,9}$'`);
      const id = `t${rows[0].n}`;
      await db.query(
        "INSERT INTO petit_tokens (id, secret, label, created, expires, uses_left) VALUES ($1, $2, $3, $4, $5, $6)",
        [id, secret, options.label ?? "", new Date(now), options.expiresIn ? new Date(now + options.expiresIn * 1000) : null, options.uses ?? null],
      );
      return id;
    });
    return { id, token: `${id}.${secret}` };
  }

  async revoke(id: string): Promise<boolean> {
    return this.#change(async (db) => ((await db.query("DELETE FROM petit_tokens WHERE id = $1", [id])).rowCount ?? 0) > 0);
  }

  async rotate(): Promise<string> {
    const token = newSecret();
    await this.#change((db) => db.query("UPDATE petit_meta SET value = $1 WHERE key = 'enrollment_token'", [token]));
    return token;
  }

  /**
   * Takes one use of token `id` in the store for a registration in flight
   * (one UPDATE: of two relays racing for the last use, one gets it);
   * undefined when it is unknown, expired or used up. release() gives it back.
   */
  async hold(id: string): Promise<TokenUse | undefined> {
    if (id === MAIN_TOKEN_ID) return { commit() {}, release() {} };
    const taken = await this.#change(async (db) => (await db.query(
      `UPDATE petit_tokens SET uses_left = uses_left - 1
       WHERE id = $1 AND (expires IS NULL OR expires > now()) AND (uses_left IS NULL OR uses_left > 0) RETURNING id`, [id],
    )).rowCount === 1);
    if (!taken) return undefined;
    let done = false;
    return {
      commit: () => void (done = true),
      release: () => {
        if (done) return;
        done = true;
        void this.#change((db) => db.query("UPDATE petit_tokens SET uses_left = uses_left + 1 WHERE id = $1 AND uses_left IS NOT NULL", [id]))
          .catch((error) => this.log(`enrollment token ${id}: cannot give a use back to the store: ${(error as Error).message}`));
      },
    };
  }

  /** Runs `work` in a store transaction, then bumps the version (every relay re-reads its mirror) and rewrites this one's. */
  async #change<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    const result = await this.pg.transact(async (db) => {
      const value = await work(db);
      const { rows } = await db.query<{ value: string }>("UPDATE petit_meta SET value = (value::bigint + 1)::text WHERE key = 'version' RETURNING value");
      await db.query("SELECT pg_notify($1, $2)", [REGISTRY_CHANNEL, rows[0].value]);
      return value;
    });
    await this.sync().catch((error) => this.log(`enrollment tokens: cannot re-read them from the store: ${(error as Error).message}`));
    return result;
  }
}
