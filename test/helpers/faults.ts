/**
 * Fault injection for reliability tests: find the processes behind a tunnel,
 * kill them, and measure how long the tunnel takes to serve again.
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "smol-toml";
import { request } from "undici";
import type { ClientStatus } from "../../lib/protocol/client-status.ts";
import { callControl } from "../../lib/daemon/control-client.ts";
import { commandLine } from "../../lib/proc/process.ts";
import { listeningInodes, pidsHoldingSockets } from "../../lib/proc/sockets.ts";
import { descendantsOf } from "../../lib/proc/process.ts";
import { DOMAIN, type Client, type Relay } from "./fixture.ts";

/** Prints one machine-readable figure line, collected into the README's reliability table. */
export function report(figures: { fault: string } & Record<string, string | number | boolean | null>): void {
  process.stdout.write(`RELIABILITY ${JSON.stringify(figures)}\n`);
}

/** Returns the PID in `path`, or undefined when the file is missing or empty. */
export function pidFrom(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`; a process already gone is not an error. */
export function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** SIGKILLs `pid` and every process below it (collected first: the orphans are re-parented once it dies). */
export function killTree(pid: number): number[] {
  // Stopped first, it forks nothing new (sshd: a session) between the walk and the kill: that one would live on, orphaned.
  signal(pid, "SIGSTOP");
  const all = [...descendantsOf(pid), pid];
  for (const p of all) signal(p, "SIGKILL");
  return all;
}

/** Returns the live (non-zombie) ssh processes whose argv names `keyFile`. */
export function sshProcessesFor(keyFile: string): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    const argv = commandLine(pid);
    return argv !== undefined && argv.length > 0 && basename(argv[0]) === "ssh" && argv.includes(keyFile);
  });
}

/** Returns the PIDs holding the LISTEN socket on 127.0.0.1:`port`: on the relay, the client's sshd session. */
export function portHolders(port: number): number[] {
  return pidsHoldingSockets(listeningInodes(port));
}

/** Asks a client daemon for its status over its command port; undefined when it does not answer. */
export async function clientStatus(client: Client): Promise<ClientStatus | undefined> {
  const config = parse(readFileSync(join(client.home, "config.toml"), "utf8")).client as { control_port: number };
  const secret = readFileSync(join(client.home, "client/control.secret"), "utf8").trim();
  return callControl<ClientStatus>({ port: config.control_port, secret }, "/v1/status", { timeout: 1_000 }).catch(() => undefined);
}

/** Asks petit-serverd for its status over its control port; undefined when it does not answer. */
export async function serverStatus(relay: Relay): Promise<{ pid: number; sshd_pid: number; clients: number } | undefined> {
  const secret = readFileSync(join(relay.home, "server/control.secret"), "utf8").trim();
  return callControl<{ pid: number; sshd_pid: number; clients: number }>({ port: relay.controlPort, secret }, "/v1/status", { timeout: 1_000 })
    .catch(() => undefined);
}

/**
 * One GET of `client`'s host through the relay's proxy, with its access
 * token and a short timeout: the status code, or the error code when it failed.
 */
export async function probeGet(relay: Relay, client: Client, timeoutMs = 1_000): Promise<number | string> {
  const auth: Record<string, string> = client.accessToken ? { "proxy-authorization": `Bearer ${client.accessToken}` } : {};
  try {
    const res = await request(`http://127.0.0.1:${relay.httpPort}/`, {
      headers: { host: hostOf(client), ...auth },
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
}

/** What polling the proxy saw. */
export interface Restore {
  /** From `since` to the first 200 that counts; null when none came within the limit. */
  ms: number | null;
  /** Answers other than 200 (and timeouts) seen while polling. */
  failed: number;
  /** Last failure seen, for the assertion message. */
  lastFailure: string | null;
}

/**
 * GETs `client`'s host through the proxy every 50 ms until a 200 that
 * `counts()` accepts (default: any), at most `limitMs` after `since` and 2,000 tries.
 */
export async function pollUntilServing(
  relay: Relay, client: Client, options: { since: number; limitMs: number; counts?: () => boolean },
): Promise<Restore> {
  let failed = 0;
  let lastFailure: string | null = null;
  for (let tries = 0; tries < 2_000 && Date.now() - options.since < options.limitMs; tries++) {
    const started = Date.now();
    const status = await probeGet(relay, client);
    if (status === 200 && (options.counts?.() ?? true)) return { ms: Date.now() - options.since, failed, lastFailure };
    if (status !== 200) {
      failed++;
      lastFailure = String(status);
    }
    await sleep(Math.max(0, 50 - (Date.now() - started)));
  }
  return { ms: null, failed, lastFailure };
}

/** Returns ms from `since` until `check()` holds (polled every 20 ms), or null after `limitMs`. */
export async function timeUntil(check: () => boolean | Promise<boolean>, since: number, limitMs: number): Promise<number | null> {
  for (let tries = 0; tries < 5_000 && Date.now() - since < limitMs; tries++) {
    if (await Promise.resolve().then(check).catch(() => false)) return Date.now() - since;
    await sleep(20);
  }
  return null;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Figures of a fault that cuts tunnels, for one client. */
export interface TunnelFault {
  /** Until the client's daemon noticed (its restart count grew). */
  detect_ms: number | null;
  /** Until a GET through the proxy answered 200 again, after the daemon noticed. */
  restore_ms: number | null;
  failed_requests: number;
  last_failure: string | null;
}

/**
 * Runs `inject()` against connected `clients` and measures for each, from
 * that moment, until its daemon notices and until the proxy serves its host
 * again (a 200 before the daemon noticed is the old tunnel still answering:
 * not counted). Gives up on a client after `limitMs`.
 */
export async function measureTunnelFault(
  relay: Relay, clients: Client[], inject: () => void | Promise<void>, limitMs: number,
): Promise<TunnelFault[]> {
  const before = await Promise.all(clients.map(clientStatus));
  before.forEach((status, i) => {
    if (status?.state !== "connected") throw new Error(`client ${clients[i].id} is not connected before the fault: ${JSON.stringify(status)}`);
  });
  const since = Date.now();
  await inject();
  return Promise.all(clients.map(async (client, i) => {
    let noticed = false;
    const [detect, restore] = await Promise.all([
      timeUntil(async () => (noticed = ((await clientStatus(client))?.restarts ?? -1) > before[i]!.restarts), since, limitMs),
      pollUntilServing(relay, client, { since, limitMs, counts: () => noticed }),
    ]);
    return { detect_ms: detect, restore_ms: restore.ms, failed_requests: restore.failed, last_failure: restore.lastFailure };
  }));
}

/** The public host of `client` on the test relay. */
export function hostOf(client: Client): string {
  return `${client.id}.${DOMAIN}`;
}

/** What a background GET poller saw. */
export interface GetRecord {
  requests: number;
  failed: number;
  /** From the first failed GET to the first 200 after the last failure; 0 when none failed. */
  outage_ms: number;
}

/**
 * GETs `client`'s host through the proxy every 50 ms in the background until
 * `stop()`, for at most `maxRequests` requests and 60 s; `stop()` then waits
 * for one 200 (up to 10 s) so an outage is measured to its end.
 */
export function recordGets(relay: Relay, client: Client, maxRequests = 1_000): { stop(): Promise<GetRecord> } {
  const samples: { at: number; ok: boolean }[] = [];
  let stopping = false;
  const giveUpAt = Date.now() + 60_000;
  const loop = (async () => {
    let stopAt = Infinity;
    for (let i = 0; i < maxRequests && Date.now() < giveUpAt; i++) {
      if (stopping && stopAt === Infinity) stopAt = Date.now() + 10_000;
      const at = Date.now();
      const ok = (await probeGet(relay, client)) === 200;
      samples.push({ at, ok });
      if (stopping && (ok || Date.now() > stopAt)) return;
      await sleep(Math.max(0, 50 - (Date.now() - at)));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      const firstFail = samples.findIndex((s) => !s.ok);
      const lastFail = samples.findLastIndex((s) => !s.ok);
      const recovered = samples.slice(lastFail + 1).find((s) => s.ok);
      return {
        requests: samples.length,
        failed: samples.filter((s) => !s.ok).length,
        outage_ms: firstFail < 0 ? 0 : (recovered ?? samples.at(-1)!).at - samples[firstFail].at,
      };
    },
  };
}
