/**
 * The connection to the PostgreSQL store several relays share: a small pool,
 * transactions under the registry's lock, and the errors a relay can act on.
 * A store that goes away is not fatal: each relay keeps serving from what it
 * read last, and changes are refused with 503 until the store is back.
 * @module
 */
import pg from "pg";
import { RegistrationError } from "../registry/checks.ts";
import { migrate } from "./schema.ts";

/** Serializes registry changes across relays (pg_advisory_xact_lock): allocation then sees every other relay's. */
const REGISTRY_LOCK = 0x7065_7469_02;

/** How long one statement may take before it counts as the store being away. */
export const QUERY_TIMEOUT_MS = 30_000;

/** A pool of connections to the store at one URL. */
export class PgStore {
  readonly pool: pg.Pool;
  /** Where the store is, for messages: host, port and database, never the password. */
  readonly where: string;

  constructor(readonly url: string, private readonly log: (line: string) => void) {
    this.where = describeStore(url);
    this.pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 30_000,
      // A statement that never answers (a half-open connection) must not hold a poll's turn forever.
      query_timeout: QUERY_TIMEOUT_MS, application_name: "petit-serverd",
    });
    // An idle connection the server closed (a restart) is dropped by the pool; unhandled, the event would end the process.
    this.pool.on("error", (error) => this.log(`store ${this.where}: idle connection lost (${error.message})`));
  }

  /** Connects and brings the schema up to date; throws naming the store when it cannot. */
  static async open(url: string, log: (line: string) => void): Promise<PgStore> {
    const store = new PgStore(url, log);
    try {
      const db = await store.pool.connect();
      try {
        const { from, to } = await migrate(db);
        if (from !== to) log(`store ${store.where}: schema migrated from version ${from} to ${to}`);
      } finally {
        db.release();
      }
    } catch (error) {
      await store.close();
      throw new Error(`Cannot use the store ${store.where}: ${(error as Error).message}`, { cause: error });
    }
    return store;
  }

  /** Runs `work` in one transaction holding the registry lock; maps an unreachable store to a 503. */
  async transact<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect().catch((error) => { throw this.unavailable(error); });
    let broken: Error | undefined;
    try {
      await db.query("BEGIN");
      await db.query("SELECT pg_advisory_xact_lock($1)", [REGISTRY_LOCK]);
      const result = await work(db);
      await db.query("COMMIT");
      return result;
    } catch (error) {
      if (isConnectionError(error)) {
        // Not given back to the pool: a timed-out statement may still be running on it.
        broken = error as Error;
        throw this.unavailable(error);
      }
      await db.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      db.release(broken);
    }
  }

  /** Runs one statement outside the lock; an unreachable store becomes a 503. */
  async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, values);
    } catch (error) {
      throw isConnectionError(error) ? this.unavailable(error) : error;
    }
  }

  /** The refusal a change gets while the store cannot be reached. */
  unavailable(error: unknown): RegistrationError {
    return new RegistrationError(
      `the relay's store (${this.where}) cannot be reached: ${(error as Error).message}; nothing was changed — try again once it is back`, 503,
    );
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

/** "postgresql://user@host:5432/db" without any password, for messages and logs. */
export function describeStore(url: string): string {
  try {
    const u = new URL(url);
    return `postgresql://${u.username ? `${decodeURIComponent(u.username)}@` : ""}${u.host}${u.pathname}`;
  } catch {
    return "(a malformed store URL)";
  }
}

/** True for errors that mean the store is not there (refused, reset, shut down), not that the statement was wrong. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? "";
  // Node's socket errors; PostgreSQL's class 08 (connection exception) and 57P0x (shutdown); pg's own timeout message.
  return /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$|^ENOTFOUND$/.test(code) || /^08|^57P0[1-3]$/.test(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test((error as Error).message ?? "");
}
