/**
 * Starting petit itself again as a background daemon, whichever way it runs:
 * the single executable, node on the bundled file, node through tsx, or Deno.
 * @module
 */
import { spawn } from "node:child_process";
import { openSync, closeSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOG_FILE_ENV } from "./log-file.ts";

declare const Deno: { execPath(): string; mainModule: string } | undefined;

/** Returns the program and leading arguments that run this same petit. */
export function selfCommand(): { program: string; args: string[] } {
  if (typeof Deno !== "undefined") {
    // fileURLToPath, not .pathname: a checkout under "My Projects" must not become "My%20Projects".
    const main = fileURLToPath(Deno.mainModule);
    const config = join(dirname(main), "deno.json");
    const args = ["run", "-A", ...(existsSync(config) ? ["--config", config] : []), main];
    return { program: Deno.execPath(), args };
  }
  // The single executable is petit: its argv holds no script, and node's own flags are not petit's to pass on.
  if (isSingleExecutable()) return { program: process.execPath, args: [] };
  // execArgv carries tsx's loader when running from source.
  return { program: process.execPath, args: [...process.execArgv, process.argv[1]] };
}

/**
 * Tells whether petit runs as a single executable (node's SEA: the node
 * binary with petit injected), where process.execPath is petit itself.
 */
export function isSingleExecutable(): boolean {
  // getBuiltinModule, not an import: the sources also run where no node:sea exists (Deno, returned above).
  const sea = process.getBuiltinModule?.("node:sea") as { isSea(): boolean } | undefined;
  return sea?.isSea() ?? false;
}

/**
 * Starts `petit <args>` detached, its output appended to `logFile`, and
 * tells it (through the PETIT_LOG_FILE variable) that this file is its log
 * to rotate. Returns the child's PID; the caller then waits for it to be ready.
 */
export function spawnSelf(args: string[], logFile: string): { pid: number; exited: () => number | null } {
  const { program, args: prefix } = selfCommand();
  const fd = openSync(logFile, "a", 0o600);
  const child = spawn(program, [...prefix, ...args], {
    detached: true, stdio: ["ignore", fd, fd], env: { ...process.env, [LOG_FILE_ENV]: logFile },
  });
  closeSync(fd);
  let exitCode: number | null = null;
  child.on("exit", (code, sig) => { exitCode = code ?? (sig ? 128 : 1); });
  child.unref();
  return { pid: child.pid!, exited: () => exitCode };
}
