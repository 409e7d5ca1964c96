/**
 * Running the real petit CLI in tests, the way a user types it, under one of
 * four runtimes: the bundled file (default), tsx on the sources, Deno, or
 * the single executable (built by test/helpers/executable.ts).
 * @module
 */
import { execa, type Result } from "execa";
import { chownSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");

/** How the CLI is run. */
export type Runtime = "bundle" | "tsx" | "deno" | "sea";

/** Returns program and leading args for `runtime`. */
export function petitCommand(runtime: Runtime = (process.env.PETIT_TEST_RUNTIME as Runtime) || "bundle"): [string, string[]] {
  switch (runtime) {
    case "bundle":
      return [process.execPath, [join(ROOT, "dist/petit.mjs")]];
    case "tsx":
      return [process.execPath, ["--import", "tsx", join(ROOT, "cli.ts")]];
    case "deno":
      return [join(ROOT, "node_modules/.bin/deno"), ["run", "-A", "--config", join(ROOT, "deno.json"), join(ROOT, "cli.ts")]];
    case "sea":
      return [join(ROOT, `dist/petit-linux-${process.arch}`), []];
  }
}

/** An account other than the test's own, to run petit as (see test/helpers/test-user.ts). */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * Makes a fresh PETIT_HOME. sshd's StrictModes refuses key files below a
 * world-writable folder such as /tmp, so homes live under ~/.cache — of
 * `owner` when given, owned by it.
 */
export function makeHome(label: string, owner?: Account): { dir: string; remove(): void } {
  const base = owner ? join(owner.home, ".cache", "petit-test") : process.env.PETIT_TEST_DIR ?? join(homedir(), ".cache", "petit-test");
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(base, `${label}-`));
  if (owner) {
    for (const path of [join(owner.home, ".cache"), base, dir]) chownSync(path, owner.uid, owner.gid);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** How `petit` runs: runtime, timeout, extra environment, and the account to run as (root only). */
export interface RunOptions {
  runtime?: Runtime;
  timeout?: number;
  env?: Record<string, string>;
  as?: Account;
}

/** Runs `petit ...args` with PETIT_HOME=`home`; never throws on a non-zero exit. */
export function petit(home: string, args: string[], options: RunOptions = {}): Promise<Result> {
  const [petitProgram, petitPrefix] = petitCommand(options.runtime);
  // runuser keeps the environment (PETIT_HOME) and drops to the account's uid, gid and groups.
  const [program, prefix] = options.as ? ["runuser", ["-u", options.as.name, "--", petitProgram, ...petitPrefix]] : [petitProgram, petitPrefix];
  return execa(program, [...prefix, ...args], {
    cwd: ROOT,
    env: { PETIT_HOME: home, NO_COLOR: "1", ...options.env },
    reject: false,
    stdin: "ignore",
    timeout: options.timeout ?? 60_000,
  }) as unknown as Promise<Result>;
}

/** Like `petit` but throws with both output streams when the exit code is not 0. */
export async function petitOk(home: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await petit(home, args, options);
  if (result.exitCode !== 0) {
    throw new Error(`petit ${args.join(" ")} exited ${result.exitCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return String(result.stdout);
}
