/**
 * Memory per idle visitor connection: opens `count` keep-alive connections
 * to a proxy, each answered once and then left idle, and reads the proxy's
 * resident memory (RSS, all its processes) before and after. Connections
 * come from many loopback addresses (127.0.0.2 …), 200 each, under
 * petit's per-source connection cap.
 * @module
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { sleep } from "./cleanup.ts";

/** Connections per source address (petit holds one source to 256 at once). */
const PER_SOURCE = 200;

/** RSS of `pids`, in KiB. */
export function rssKiB(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (match) total += Number(match[1]);
  }
  return total;
}

/** What holding the connections cost. */
export interface IdleMemory {
  connections: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  /** (after - before) / connections, in KiB. */
  perConnectionKiB: number;
}

/** Opens `count` idle keep-alive connections to `port` (after one request each) and measures `pids`' RSS. */
export async function measureIdle(options: {
  port: number; tls: boolean; headers: Record<string, string>; count: number; pids: () => number[];
}): Promise<IdleMemory> {
  const head = `GET / HTTP/1.1\r\n${Object.entries(options.headers).map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  await sleep(1_000);
  const rssBeforeKiB = rssKiB(options.pids());
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < options.count; i += 100) {
      const batch = Array.from({ length: Math.min(100, options.count - i) }, (_, j) => open(options.port, options.tls, `127.0.0.${2 + Math.floor((i + j) / PER_SOURCE)}`, head));
      sockets.push(...(await Promise.all(batch)));
    }
    await sleep(2_000);
    const rssAfterKiB = rssKiB(options.pids());
    return { connections: sockets.length, rssBeforeKiB, rssAfterKiB, perConnectionKiB: (rssAfterKiB - rssBeforeKiB) / sockets.length };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

/** Connects from `localAddress`, sends `head` and waits for the end of the answer's head (the small body comes with it). */
function open(port: number, tls: boolean, localAddress: string, head: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const options = { host: "127.0.0.1", port, localAddress };
    const socket: Socket = tls ? connectTls({ ...options, rejectUnauthorized: false }) : connect(options);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer on 127.0.0.1:${port} within 10 s`)); }, 10_000);
    let text = "";
    socket.once(tls ? "secureConnect" : "connect", () => socket.write(head));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (!text.includes("\r\n\r\n")) return;
      clearTimeout(timer);
      socket.removeAllListeners("data");
      if (!/^HTTP\/1\.1 200 /.test(text)) return reject(new Error(`127.0.0.1:${port} answered ${JSON.stringify(text.slice(0, 80))}`));
      resolve(socket);
    });
    socket.on("error", (error) => { clearTimeout(timer); reject(error); });
  });
}
