/**
 * Refusing files another account could change, in the spirit of sshd's
 * StrictModes. petit (often as root) reads config.toml, runs the programs it
 * names and keeps keys and secrets: whoever can write one of them, or a
 * folder above one, can make petit run their program as petit's user.
 * @module
 */
import { readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { userInfo } from "node:os";

/** One file or folder petit will not trust, and the command that fixes it. */
export interface TrustProblem {
  path: string;
  /** What is wrong, e.g. `writable by group and others (owner root, mode 0777)`. */
  what: string;
  /** A shell command, e.g. `chmod go-w "/srv/petit"`. */
  fix: string;
}

/** Some files petit trusts could be changed by another account; the message lists each with its fix. */
export class TrustError extends Error {
  override name = "TrustError";
  constructor(readonly problems: TrustProblem[], runner: Runner) {
    super(
      `Refusing to run as ${runner.name}: another account could change files petit trusts ` +
        `(it would run their programs or use their keys as ${runner.name}):\n` +
        problems.map((p) => `  "${p.path}" is ${p.what}; fix: ${p.fix}`).join("\n"),
    );
  }
}

/** The account petit runs as. */
export interface Runner {
  uid: number;
  name: string;
}

/** What judge() needs of a file's status. */
export interface Owned {
  uid: number;
  mode: number;
  isDirectory(): boolean;
}

const STICKY = 0o1000;

/**
 * Returns what is wrong with `path` (status `stat`) for `runner`, or
 * undefined when it may be trusted: owned by the runner or root, and
 * writable by no one else. A folder *above* petit's files (`ancestor`) may
 * be writable by all when its sticky bit is set, like /tmp: others can then
 * add entries but not replace the ones petit uses, which must pass on their own.
 */
export function judge(
  path: string, stat: Owned, runner: Runner, ancestor: boolean, nameOf: (uid: number) => string = userName,
): TrustProblem | undefined {
  const foreign = stat.uid !== runner.uid && stat.uid !== 0;
  const writable = stat.mode & 0o022;
  const excused = ancestor && stat.isDirectory() && (stat.mode & STICKY) !== 0;
  const badMode = writable !== 0 && !excused;
  if (!foreign && !badMode) return undefined;
  const mode = `mode ${(stat.mode & 0o7777).toString(8).padStart(4, "0")}`;
  const owner = nameOf(stat.uid);
  const who = writable === 0o022 ? "group and others" : writable === 0o020 ? "group" : "others";
  const what = foreign
    ? `owned by ${owner} (uid ${stat.uid}, ${mode})${badMode ? ` and writable by ${who}` : ""}`
    : `writable by ${who} (owner ${owner}, ${mode})`;
  const fix = [
    // The owner may have changed it already: look before taking it over.
    foreign ? `check its content, then chown ${runner.name} "${path}"` : "",
    badMode ? `chmod go-w "${path}"` : "",
  ].filter(Boolean).join(" && ");
  return { path, what, fix };
}

/**
 * Returns the problems of each of `paths` and of every folder above it up to
 * /, following symbolic links both as written and as resolved. A missing
 * path is no problem (petit creates it), but the folders above it are checked.
 */
export function findUntrusted(paths: string[], runner: Runner = currentRunner()): TrustProblem[] {
  const problems = new Map<string, TrustProblem>();
  const seen = new Set<string>();
  const visit = (path: string, ancestor: boolean) => {
    const key = `${ancestor}:${path}`;
    if (seen.has(key)) return;
    seen.add(key);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return; // Missing, or not ours to look at: petit fails later on its own, with the path.
    }
    const problem = judge(path, stat, runner, ancestor);
    if (problem && !problems.has(path)) problems.set(path, problem);
  };
  for (const given of paths) {
    const lexical = resolve(given);
    let real: string | undefined;
    try {
      real = realpathSync(lexical);
    } catch {
      real = undefined;
    }
    for (const start of real && real !== lexical ? [lexical, real] : [lexical]) {
      visit(start, false);
      for (let dir = dirname(start); ; dir = dirname(dir)) {
        visit(dir, true);
        if (dir === dirname(dir)) break;
      }
    }
  }
  return [...problems.values()];
}

/** Throws a TrustError listing every problem of `paths` (see findUntrusted). */
export function checkTrusted(paths: string[], runner: Runner = currentRunner()): void {
  const problems = findUntrusted(paths, runner);
  if (problems.length) throw new TrustError(problems, runner);
}

/** The account this process runs as. */
export function currentRunner(): Runner {
  const uid = process.getuid?.() ?? 0;
  return { uid, name: uid === 0 ? "root" : userInfo().username };
}

/** The account name of `uid`, or "uid N" when /etc/passwd does not say. */
function userName(uid: number): string {
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === String(uid));
    if (line) return line.split(":")[0];
  } catch {
    // No /etc/passwd: the uid alone says it.
  }
  return `uid ${uid}`;
}
