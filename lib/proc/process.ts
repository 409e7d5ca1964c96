/**
 * Process facts read from /proc (Linux): liveness, command lines, parents,
 * children and descendants, owners. Who holds a listening socket is in
 * sockets.ts; signalling and stopping in signal.ts.
 * @module
 */
import { readFileSync, readdirSync } from "node:fs";
import { setImmediate } from "node:timers/promises";

/**
 * Tells whether a process with `pid` runs. A zombie (exited, not yet reaped
 * by its parent) does not: a daemon re-parented to an init that reaps late,
 * or never, would otherwise look alive long after it exited.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

/** Tells whether `pid` is a zombie; false when /proc cannot tell (then `kill(pid, 0)` alone decides liveness). */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/**
 * When `pid` started, in clock ticks since boot (/proc/PID/stat field 22), or
 * undefined when it is gone: with the PID, it names one process even once
 * the number is reused (fixed at fork, unlike the command line before exec).
 */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Returns the argv of `pid`, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Returns the parent PID of `pid`, or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ")".
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Returns the PIDs of all processes. */
export function allPids(): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Returns the PIDs whose parent is `pid`. */
export function childPids(pid: number): number[] {
  return allPids().filter((child) => parentPid(child) === pid);
}

/** Returns every process with its parent PID, read once: for walking trees. */
export function parentMap(): Map<number, number | undefined> {
  const parents = new Map<number, number | undefined>();
  for (const pid of allPids()) parents.set(pid, parentPid(pid));
  return parents;
}

/**
 * /proc files a walk reads before it lets the event loop run: each read takes
 * microseconds, but a relay with a thousand tunnels has thousands of
 * processes, and a daemon that reads them all at once stalls its proxy.
 */
export const READS_PER_TURN = 32;

/** The same as {@link parentMap}, for daemons: the event loop runs between slices of reads. */
export async function readParentMap(): Promise<Map<number, number | undefined>> {
  const parents = new Map<number, number | undefined>();
  let reads = 0;
  for (const pid of allPids()) {
    parents.set(pid, parentPid(pid));
    if (++reads % READS_PER_TURN === 0) await setImmediate();
  }
  return parents;
}

/** Returns every PID whose ancestry includes `root` (not `root` itself). */
export function descendantsOf(root: number): number[] {
  return below(parentMap(), root);
}

/** The same as {@link descendantsOf}, for daemons (see {@link readParentMap}). */
export async function readDescendantsOf(root: number): Promise<number[]> {
  return below(await readParentMap(), root);
}

/** The PIDs in `parents` below `root`. */
function below(parents: Map<number, number | undefined>, root: number): number[] {
  const isBelow = (pid: number): boolean => {
    for (let p = parents.get(pid), hops = 0; p && hops < 64; p = parents.get(p), hops++) if (p === root) return true;
    return false;
  };
  return [...parents.keys()].filter(isBelow);
}

/** The real uid of `pid`, or undefined when it is gone. */
export function realUid(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
    return line ? Number(line.split(/\s+/)[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the PID from a pid file, or undefined when the file is missing, malformed or the process is gone. */
export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
