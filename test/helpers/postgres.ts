/**
 * A real PostgreSQL server for tests: Debian's postgresql package, a fresh
 * cluster made with initdb in a temporary directory, started with pg_ctl on
 * a free port of 127.0.0.1, stopped and removed by stop(). As root, the
 * cluster belongs to the package's "postgres" account (initdb refuses root).
 * @module
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { freePort } from "./ports.ts";

/** A running test cluster. */
export interface TestPostgres {
  port: number;
  /** A URL for database `db` (created by createDatabase). */
  url(db: string): string;
  createDatabase(db: string): Promise<string>;
  /** pg_ctl restart: every connection is cut, the data stays. */
  restart(): Promise<void>;
  /** pg_ctl stop (fast) without removing the data; start() brings it back. */
  pause(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The directory of initdb and pg_ctl, or undefined when Debian's postgresql is not installed. */
export function postgresBin(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "pg_ctl"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(base, versions[0], "bin");
}

/** Why PostgreSQL tests cannot run here, or undefined when they can (installing the package as root if missing). */
export function postgresSkipReason(): string | undefined {
  if (!postgresBin() && process.getuid?.() === 0) {
    try {
      execFileSync("bash", ["-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 || " +
        "(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)"], { stdio: "ignore", timeout: 300_000 });
    } catch {
      // reported below
    }
  }
  if (!postgresBin()) return "Debian's postgresql package is not installed (apt-get install postgresql)";
  if (process.getuid?.() === 0) {
    try {
      execFileSync("id", ["postgres"], { stdio: "ignore" });
    } catch {
      return 'running as root needs the "postgres" account that Debian\'s postgresql package creates';
    }
  }
  return undefined;
}

/** Starts a fresh cluster; the superuser is "petit", trusted on 127.0.0.1 only. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin()!;
  const dir = mkdtempSync(join(tmpdir(), "petit-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const run = (program: string, args: string[]) =>
    asRoot ? execa("runuser", ["-u", "postgres", "--", join(bin, program), ...args]) : execa(join(bin, program), args);
  await run("initdb", ["-D", data, "-U", "petit", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  let port = 0;
  const start = async () => {
    await run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, "start"]);
  };
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      // Another test may have taken the port between freePort() and the bind.
      if (attempt === 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const url = (db: string) => `postgresql://petit@127.0.0.1:${port}/${db}`;
  return {
    port, url, start,
    async createDatabase(db) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return url(db);
    },
    async restart() {
      await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      await start();
    },
    async pause() {
      await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
    },
    async stop() {
      await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
