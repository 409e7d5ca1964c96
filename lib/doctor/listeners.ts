/**
 * Who listens on which TCP port, on any address, IPv4 and IPv6, from
 * /proc/net/tcp{,6} (Linux). lib/proc.ts only looks at 127.0.0.1; a relay
 * may listen on 0.0.0.0 or another address, and so may whatever is in its way.
 * @module
 */
import { readFileSync } from "node:fs";
import { commandLine } from "../proc/process.ts";
import { pidsHoldingSockets } from "../proc/sockets.ts";

/** One listening socket. */
export interface Listener {
  /** "127.0.0.1", "0.0.0.0", "::", "::1", … (IPv4-mapped IPv6 shown as IPv4). */
  address: string;
  port: number;
  inode: string;
}

/** Parses the text of /proc/net/tcp (`ipv6` false) or /proc/net/tcp6 into its LISTEN sockets. */
export function parseProcNetTcp(text: string, ipv6: boolean): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st …, inode is field 9; state 0A is LISTEN.
    if (f.length < 10 || f[3] !== "0A") continue;
    const [hexAddress, hexPort] = f[1].split(":");
    out.push({ address: ipv6 ? ipv6Address(hexAddress) : ipv4Address(hexAddress), port: parseInt(hexPort, 16), inode: f[9] });
  }
  return out;
}

/** "0100007F" (little-endian) → "127.0.0.1". */
function ipv4Address(hex: string): string {
  const bytes = Buffer.from(hex, "hex");
  return [bytes[3], bytes[2], bytes[1], bytes[0]].join(".");
}

/** 32 hex digits in four little-endian words → a normal IPv6 text, IPv4-mapped ones as IPv4. */
function ipv6Address(hex: string): string {
  const bytes = Buffer.alloc(16);
  for (let word = 0; word < 4; word++) Buffer.from(hex.slice(word * 8, word * 8 + 8), "hex").reverse().copy(bytes, word * 4);
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return [...bytes.subarray(12)].join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return normalizeAddress(groups.join(":"));
}

/** Returns `address` in one canonical form, so "0:0:0:0:0:0:0:1" and "::1" compare equal. */
export function normalizeAddress(address: string): string {
  if (!address.includes(":")) return address;
  try {
    return new URL(`http://[${address.replace(/^\[|\]$/g, "")}]/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return address;
  }
}

/**
 * Tells whether a socket bound to `socketAddress` keeps a server from
 * binding the same port on `listenAddress`: the same address, or either is
 * a wildcard (0.0.0.0 or ::).
 */
export function addressesClash(listenAddress: string, socketAddress: string): boolean {
  const a = normalizeAddress(listenAddress);
  const b = normalizeAddress(socketAddress);
  const wildcard = (x: string) => x === "0.0.0.0" || x === "::";
  return a === b || wildcard(a) || wildcard(b);
}

/** Returns every listening TCP socket of this machine (as far as /proc shows them). */
export function readListeners(): Listener[] {
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  };
  return [...parseProcNetTcp(read("/proc/net/tcp"), false), ...parseProcNetTcp(read("/proc/net/tcp6"), true)];
}

/** Returns the PIDs holding any of `sockets` (those this user may look into). */
export function holdersOf(sockets: Listener[]): number[] {
  return pidsHoldingSockets(new Set(sockets.map((s) => s.inode)));
}

/** Returns "pid 123 (python3 -m http.server 8000)" for messages. */
export function describePid(pid: number): string {
  const argv = commandLine(pid)?.join(" ") ?? "";
  return argv ? `pid ${pid} (${argv.length > 60 ? argv.slice(0, 57) + "..." : argv})` : `pid ${pid}`;
}
