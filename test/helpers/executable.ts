/**
 * The single executable (dist/petit-linux-<arch>) in tests: built when it is
 * missing or older than the sources, and run with a PATH on which no node
 * can be found, as on a machine that has none.
 * @module
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

/** The executable for this machine's architecture. */
export const EXECUTABLE = executablePath(`linux-${process.arch}`);

/** The executable for `target` ("linux-x64", "linux-arm64"). */
export function executablePath(target: string): string {
  return join(ROOT, `dist/petit-${target}`);
}

/** Programs that must not be run by the executable: each is a tripwire on the node-less PATH. */
const RUNTIMES = ["node", "nodejs", "tsx", "deno", "npm", "npx", "bun"];

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function sources(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts")).map((file) => join(folder, file));
}

/**
 * Returns the path of the executable for `target` (default: this machine's),
 * building it first (about 10 to 30 s, more when the pinned node binaries
 * must be fetched) when it is missing or older than cli.ts, lib/ or package.json.
 */
export function ensureExecutable(target = `linux-${process.arch}`): string {
  const executable = executablePath(target);
  const built = mtime(executable);
  const inputs = [join(ROOT, "cli.ts"), join(ROOT, "package.json"), join(ROOT, "scripts/package/sea.mjs"), ...sources(join(ROOT, "lib"))];
  if (built > 0 && inputs.every((file) => mtime(file) <= built)) return executable;
  execFileSync(process.execPath, [join(ROOT, "scripts/package/sea.mjs"), target], {
    cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], timeout: 300_000,
  });
  return executable;
}

/** A PATH without node and the tripwires on it. */
export interface NodelessPath {
  /** The value for PATH. */
  path: string;
  /** The runtimes someone tried to run on it (each tripwire records its name), empty when none was. */
  runs(): string[];
  remove(): void;
}

/**
 * Makes a folder of links to every program on `path` (the test's PATH)
 * except node and its kin, and in their place tripwires that record being
 * run and fail: what the executable starts must not need them.
 */
export function nodelessPath(path = process.env.PATH ?? ""): NodelessPath {
  const dir = mkdtempSync(join(tmpdir(), "petit-nodeless-"));
  const bin = join(dir, "bin");
  const record = join(dir, "runs");
  mkdirSync(bin);
  mkdirSync(record);
  for (const folder of path.split(":").filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (RUNTIMES.includes(name)) continue;
      try {
        symlinkSync(join(folder, name), join(bin, name));
      } catch {
        // EEXIST: an earlier folder on PATH has this name, and wins as it would on PATH
      }
    }
  }
  for (const name of RUNTIMES) {
    const tripwire = join(bin, name);
    writeFileSync(tripwire, `#!/bin/sh\n: > '${join(record, name)}'\necho "${name} is not installed here" >&2\nexit 127\n`);
    chmodSync(tripwire, 0o755);
  }
  return {
    path: bin,
    runs: () => readdirSync(record),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
