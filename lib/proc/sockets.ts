/**
 * Listening TCP sockets on 127.0.0.1 and the processes that hold them, from
 * /proc (Linux); and waiting for a port to accept connections.
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { setImmediate, setTimeout as sleep } from "node:timers/promises";
import { canConnect } from "../net.ts";
import { allPids, READS_PER_TURN } from "./process.ts";

/** A TCP socket listening on 127.0.0.1. */
export interface LoopbackListener {
  port: number;
  inode: string;
}

/** Each TCP socket listening on 127.0.0.1 (IPv4), from /proc/net/tcp: its port and inode. */
function loopbackListeners(): LoopbackListener[] {
  try {
    return parseLoopbackListeners(readFileSync("/proc/net/tcp"));
  } catch {
    return [];
  }
}

/**
 * The same, read without blocking the event loop: the kernel writes the
 * table in node's thread pool, and only the few LISTEN lines are split here.
 * (Spawning `ss` instead would fork this whole process, which stalls its
 * event loop for milliseconds: the proxy's tail latency.)
 */
export async function readLoopbackListeners(): Promise<LoopbackListener[]> {
  try {
    return parseLoopbackListeners(await readFile("/proc/net/tcp"));
  } catch {
    return [];
  }
}

const NEWLINE = 0x0a;
const COLON = 0x3a;
/** "0100007F:" — 127.0.0.1 in /proc/net/tcp's hex, then the port. */
const LOOPBACK = Buffer.from("0100007F:");
/** After a line's "sl:" colon: " 0100007F:1F90 00000000:0000 0A": the local address at +2, the state at +30. */
const LOCAL_AT = 2;
const STATE_AT = 30;

/**
 * The kernel's table (its own text, one socket a line: "sl: local rem st …
 * inode …"): only lines whose state is 0A (LISTEN) on 127.0.0.1 are split,
 * which keeps a relay with tens of thousands of connections cheap to read.
 */
export function parseLoopbackListeners(table: Buffer): LoopbackListener[] {
  const listeners: LoopbackListener[] = [];
  let start = table.indexOf(NEWLINE) + 1; // the header line
  while (start > 0 && start < table.length) {
    let end = table.indexOf(NEWLINE, start);
    if (end < 0) end = table.length;
    const colon = table.indexOf(COLON, start);
    if (colon > 0 && colon < end && table[colon + STATE_AT] === 0x30 && table[colon + STATE_AT + 1] === 0x41
      && table.compare(LOOPBACK, 0, LOOPBACK.length, colon + LOCAL_AT, colon + LOCAL_AT + LOOPBACK.length) === 0) {
      const f = table.toString("latin1", start, end).trim().split(/\s+/);
      // local_address is "0100007F:PORT" (hex); the inode is the tenth field.
      if (f.length > 9) listeners.push({ port: parseInt(f[1].slice(9), 16), inode: f[9] });
    }
    start = end + 1;
  }
  return listeners;
}

/** Returns the inodes of TCP sockets listening on 127.0.0.1: on `port` only, or on any port when it is undefined. */
export function listeningInodes(port?: number): Set<string> {
  return new Set(loopbackListeners().filter((l) => port === undefined || l.port === port).map((l) => l.inode));
}

/** The inodes of the sockets process `pid` holds open (none when it is gone or not ours to read). */
function socketInodesOf(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.push(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Returns the PIDs among `pids` that hold a socket with one of `inodes` open. */
export function pidsHoldingSockets(inodes: Set<string>, pids: number[] = allPids()): number[] {
  if (inodes.size === 0) return [];
  return pids.filter((pid) => socketInodesOf(pid).some((inode) => inodes.has(inode)));
}

/** Returns the 127.0.0.1 ports in LISTEN state whose sockets one of `pids` holds open. */
export function portsHeldBy(pids: number[]): Set<number> {
  const inodes = new Set(pids.flatMap(socketInodesOf));
  return new Set(loopbackListeners().filter((l) => inodes.has(l.inode)).map((l) => l.port));
}

/** The same as {@link portsHeldBy}, for daemons: the event loop runs between slices of reads. */
export async function readPortsHeldBy(pids: number[]): Promise<Set<number>> {
  const inodes = new Set<string>();
  for (let i = 0; i < pids.length; i++) {
    for (const inode of socketInodesOf(pids[i])) inodes.add(inode);
    if ((i + 1) % READS_PER_TURN === 0) await setImmediate();
  }
  return new Set((await readLoopbackListeners()).filter((l) => inodes.has(l.inode)).map((l) => l.port));
}

/** Returns the set of 127.0.0.1 ports in LISTEN state, from /proc/net/tcp. */
export function listeningPorts(): Set<number> {
  return new Set(loopbackListeners().map((l) => l.port));
}

/** What {@link waitForPort} waits for. */
export interface WaitForPort {
  /** The program that should listen, for messages ("sshd"). */
  name: string;
  host: string;
  port: number;
  timeoutMs: number;
  /** Waiting ends early when this turns false (the program exited). */
  alive?: () => boolean;
}

/** Resolves once a TCP connect to host:port succeeds; rejects after `timeoutMs` or when `alive()` turns false. */
export async function waitForPort({ name, host, port, timeoutMs, alive = () => true }: WaitForPort): Promise<void> {
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(target, port)) return;
    if (!alive()) throw new Error(`${name} exited before listening on ${host}:${port}`);
    await sleep(50);
  }
  throw new Error(`${name} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}
