/**
 * Frees a client's port held by its own dead session. When a client
 * reconnects before sshd has noticed its old session is gone (ClientAlive
 * takes ~30 s), sshd logs `bind [127.0.0.1]:P: Address already in use` and
 * refuses the forward. Only that client's key may listen on P
 * (permitlisten), so the holder is that client's own old session: ending it
 * lets the client in on its next try, within a second or two.
 * @module
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { allPids, listeningInodes, parentPid, pidsHoldingSockets } from "../proc.ts";

/** Settings of the reaper. */
export interface StalePortOptions {
  /** sshd's log file, written by sshd itself. */
  logFile: string;
  /** PID of the sshd listener whose sessions may be ended. */
  sshdPid: () => number | undefined;
  /** Client ID owning a port, or undefined for ports petit did not hand out. */
  ownerOf: (port: number) => number | undefined;
  log: (line: string) => void;
}

const BIND_FAILED = /bind \[127\.0\.0\.1\]:(\d+): Address already in use/;

/** Follows sshd's log and ends sessions that hold a reconnecting client's port. */
export class StalePortReaper {
  #offset = 0;
  #timer: NodeJS.Timeout | undefined;
  #partial = "";

  constructor(private readonly options: StalePortOptions) {}

  /** Starts following the log from its current end. */
  start(intervalMs = 200): void {
    this.#offset = fileSize(this.options.logFile);
    this.#timer = setInterval(() => this.#poll(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #poll(): void {
    const size = fileSize(this.options.logFile);
    if (size < this.#offset) this.#offset = 0; // truncated or rotated
    if (size === this.#offset) return;
    const fd = openSync(this.options.logFile, "r");
    const buffer = Buffer.alloc(Math.min(size - this.#offset, 1 << 20));
    try {
      readSync(fd, buffer, 0, buffer.length, this.#offset);
    } finally {
      closeSync(fd);
    }
    this.#offset += buffer.length;
    const lines = (this.#partial + buffer.toString("utf8")).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      const match = BIND_FAILED.exec(line);
      if (match) this.reap(Number(match[1]));
    }
  }

  /** Ends the session of our sshd holding 127.0.0.1:`port`, if the port is a client's. Returns the PIDs ended. */
  reap(port: number): number[] {
    const owner = this.options.ownerOf(port);
    const sshd = this.options.sshdPid();
    if (owner === undefined || !sshd) return [];
    return endSessionsOnPort(port, sshd, (pid) =>
      this.options.log(`stale port: client ${owner} reconnected while its old session (pid ${pid}) still held port ${port}; ending that session`));
  }
}

/**
 * Ends (SIGTERM) the sessions of the sshd listener `sshdPid` that listen on
 * 127.0.0.1:`port`, calling `before(pid)` for each. Processes outside that
 * sshd's tree are never touched. Returns the PIDs signalled.
 */
export function endSessionsOnPort(port: number, sshdPid: number, before: (pid: number) => void = () => {}): number[] {
  const holders = pidsHoldingSockets(listeningInodes(port), descendantsOf(sshdPid));
  for (const pid of holders) {
    before(pid);
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  return holders;
}

/** Returns every PID whose ancestry includes `root` (not `root` itself). */
export function descendantsOf(root: number): number[] {
  const parents = new Map<number, number | undefined>();
  for (const pid of allPids()) parents.set(pid, parentPid(pid));
  const isBelow = (pid: number): boolean => {
    for (let p = parents.get(pid), hops = 0; p && hops < 64; p = parents.get(p), hops++) if (p === root) return true;
    return false;
  };
  return [...parents.keys()].filter(isBelow);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
