/**
 * Listening TCP sockets on 127.0.0.1 and the processes that hold them, from
 * /proc (Linux); and waiting for a port to accept connections.
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { canConnect } from "../net.ts";
import { allPids } from "./process.ts";

/** Each TCP socket listening on 127.0.0.1 (IPv4), from /proc/net/tcp: its port and inode. */
function loopbackListeners(): { port: number; inode: string }[] {
  let text = "";
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return [];
  }
  const listeners: { port: number; inode: string }[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // local_address is "0100007F:PORT" (hex); state 0A is LISTEN; the inode is the tenth field.
    if (f.length > 9 && f[3] === "0A" && f[1].startsWith("0100007F:")) listeners.push({ port: parseInt(f[1].slice(9), 16), inode: f[9] });
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
