/**
 * Process facts read from /proc (Linux): liveness, command lines, children,
 * and who holds a listening TCP port.
 * @module
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

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

/** Tells whether `pid` is a zombie; false when /proc cannot tell. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
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

/** Returns the PID from a pid file, or undefined when the file is missing, malformed or the process is gone. */
export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns the inodes of TCP sockets listening on 127.0.0.1 (IPv4), from
 * /proc/net/tcp: on `port` only, or on any port when it is undefined.
 */
export function listeningInodes(port?: number): Set<string> {
  const inodes = new Set<string>();
  const local = port === undefined ? "0100007F:" : `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let text = "";
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return inodes;
  }
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address is "0100007F:PORT"; state 0A is LISTEN.
    if (f.length > 9 && (port === undefined ? f[1].startsWith(local) : f[1] === local) && f[3] === "0A") inodes.add(f[9]);
  }
  return inodes;
}

/** Returns the PIDs among `pids` that hold a socket with one of `inodes` open. */
export function pidsHoldingSockets(inodes: Set<string>, pids: number[] = allPids()): number[] {
  if (inodes.size === 0) return [];
  const holders: number[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1])) {
        holders.push(pid);
        break;
      }
    }
  }
  return holders;
}

/** Returns the set of 127.0.0.1 ports in LISTEN state, from /proc/net/tcp. */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  let text = "";
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return ports;
  }
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 3 && f[3] === "0A" && f[1].startsWith("0100007F:")) ports.add(parseInt(f[1].slice(9), 16));
  }
  return ports;
}
