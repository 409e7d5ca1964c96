/**
 * Many tunnel clients driven by the test process, for load and reconnect-storm tests:
 * real ed25519 keys registered through the relay's API, a real `ssh -R` per
 * client run by lib's TunnelSupervisor with lib's tunnelArgs, and one small
 * origin per client that answers with that client's identity.
 *
 * The supervisors run in a few worker processes, ten clients each, rather
 * than as one petit-clientd each: a hundred node daemons would need ~5 GiB
 * and much of this 2-core machine's CPU before a tunnel came up.
 * @module
 */
import { execa } from "execa";
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import type { TunnelState, TunnelStatus } from "../../lib/protocol/client-status.ts";
import { SERVER_ALIVE_COUNT_MAX, SERVER_ALIVE_INTERVAL } from "../../lib/constants.ts";
import type { RegistrationAnswer } from "../../lib/protocol/registration.ts";
import { registrationHeaders } from "../../lib/client/register.ts";
import { pinHostKey } from "../../lib/ssh/known-hosts.ts";
import { tunnelArgs } from "../../lib/ssh/tunnel-args.ts";
import { DOMAIN, viaProxy, type Relay } from "./fixture.ts";
import type { ToWorker, WorkerSpec } from "./fleet-worker.ts";
import { startIdentityOrigin } from "./identity-origin.ts";
import { makeHome } from "./petit.ts";

/** Runs `task` over `items` with at most `limit` at a time; returns results in order. */
export async function mapLimit<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Registers the key at `keyFile` through the relay's API, proving the token and signing the way `petit register` does. */
export async function registerKey(relay: Relay, keyFile: string): Promise<RegistrationAnswer> {
  const body = JSON.stringify({ public_key: readFileSync(`${keyFile}.pub`, "utf8").trim() });
  const res = await request(`${relay.apiUrl}/v1/register`, {
    method: "POST",
    headers: await registrationHeaders(relay.token, body, keyFile),
    body, headersTimeout: 15_000, bodyTimeout: 15_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`registration answered ${res.statusCode}: ${text}`);
  return JSON.parse(text) as RegistrationAnswer;
}

/** One client of a Fleet, as last reported by its worker. */
export interface FleetClient {
  id: number;
  port: number;
  /** What visitors present to the relay's proxy for this client. */
  accessToken: string;
  status: TunnelStatus;
  /** The last lines its supervisor logged (ssh's stderr and restarts). */
  log: string[];
  /** Every state this client has been in, in order, without repeats, with the time it began. */
  states: { state: TunnelState; at: number }[];
}

/** Clients per worker process (see fleet-worker.ts for why there are worker processes at all). */
const CLIENTS_PER_WORKER = 10;
const MAX_WORKERS = 25;

/**
 * `count` registered clients with their origins. Their supervisors run in a
 * few small worker processes (fleet-worker.ts), each holding several clients:
 * real ssh each, but no petit-clientd each, as 100 node daemons would be too
 * heavy for this 2-core machine.
 */
export class Fleet {
  readonly clients: FleetClient[] = [];
  #workers: ChildProcess[] = [];
  #cleanups: (() => Promise<void> | void)[] = [];

  private constructor() {}

  /**
   * Makes keys, registers them, starts one origin per client and the worker
   * processes. Given several relays (sharing a store), client i registers
   * through and connects to relay i mod their number, and moves to the next
   * one when its relay goes away, as petit-clientd does. Cleans up after itself if it fails.
   */
  static async create(relay: Relay | Relay[], count: number): Promise<Fleet> {
    const relays = Array.isArray(relay) ? relay : [relay];
    const fleet = new Fleet();
    // Under ~/.cache (see makeHome): ssh refuses private keys other users can read.
    const home = makeHome("fleet");
    fleet.#cleanups.push(() => home.remove());
    try {
      const knownHosts = join(home.dir, "known_hosts");
      const aes = /^flags\s*:.*\baes\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
      const keys = await mapLimit([...Array(count).keys()], 4, async (i) => {
        const file = join(home.dir, `key-${i}`);
        await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `fleet-${i}`, "-f", file], { stdin: "ignore" });
        return file;
      });
      // Origins listen on ephemeral ports: they start before registering, so
      // the relay (which skips busy ports) never hands out a port one of them holds.
      const origins = await mapLimit(keys, 8, async () => {
        const origin = await startIdentityOrigin();
        fleet.#cleanups.push(() => origin.close());
        return origin;
      });
      // Registration is serialized by the relay anyway; a little concurrency hides the round trips.
      const answers = await mapLimit(keys, 4, (file, i) => registerKey(relays[i % relays.length], file));
      pinHostKey(knownHosts, answers[0].ssh.host_key, answers.map((a) => a.ssh.host_key));
      const specs: WorkerSpec[] = answers.map((answer, index) => {
        origins[index].identity = `client ${answer.id}`;
        fleet.clients.push({
          id: answer.id, port: answer.port, accessToken: answer.access_token, log: [], states: [],
          status: { state: "stopped", connected_since: null, restarts: 0, last_error: null, next_retry_at: null, ssh_pid: null },
        });
        const host = answer.ssh.host || "127.0.0.1";
        // Its own relay first, then the others in order (their SSH endpoints on loopback, where the test started them).
        const own = index % relays.length;
        const endpoints = [{ host, port: answer.ssh.port }, ...relays.map((r, i) => ({ i, host: "127.0.0.1", port: r.sshPort }))
          .filter((r) => r.i !== own).sort((x, y) => ((x.i - own + relays.length) % relays.length) - ((y.i - own + relays.length) % relays.length))];
        const routes = endpoints.map((e) => ({
          host: e.host, port: e.port,
          args: tunnelArgs({
            host: e.host, port: e.port, user: answer.ssh.user, keyFile: keys[index], knownHostsFile: knownHosts,
            forwards: [{ relayPort: answer.port, targetHost: "127.0.0.1", targetPort: origins[index].port }],
            keepaliveInterval: SERVER_ALIVE_INTERVAL, keepaliveCount: SERVER_ALIVE_COUNT_MAX, preferAes: aes,
          }),
        }));
        return { index, routes };
      });
      const workers = Math.min(MAX_WORKERS, Math.ceil(count / CLIENTS_PER_WORKER));
      await Promise.all(Array.from({ length: workers }, (_, w) => fleet.#startWorker(specs.filter((s) => s.index % workers === w))));
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  async #startWorker(specs: WorkerSpec[]): Promise<void> {
    const worker = fork(fileURLToPath(new URL("./fleet-worker.ts", import.meta.url)), [], {
      execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#workers.push(worker);
    worker.on("message", (m: { type: string; index: number; status: TunnelStatus; at: number; log: string[] }) => {
      if (m.type !== "state") return;
      const client = this.clients[m.index];
      client.status = m.status;
      client.log = m.log;
      if (client.states.at(-1)?.state !== m.status.state) client.states.push({ state: m.status.state, at: m.at });
    });
    await new Promise<void>((resolve, reject) => {
      // Generous: each worker compiles the supervisor with tsx, all at once, on a machine that may be busy.
      const timer = setTimeout(() => reject(new Error("a fleet worker did not start within 120 s")), 120_000);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`a fleet worker exited with ${code} before it was ready`)));
      worker.on("message", (m: { type: string }) => m.type === "ready" && (clearTimeout(timer), resolve()));
      worker.send({ type: "init", specs } satisfies ToWorker);
    });
  }

  /** PIDs of the worker processes that run the supervisors. */
  get workerPids(): number[] {
    return this.#workers.map((w) => w.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Starts the supervisors of `clients` (all by default). */
  start(clients: FleetClient[] = this.clients): void {
    const indices = clients.map((c) => this.clients.indexOf(c));
    const workers = this.#workers.length;
    // Worker w holds the clients whose index % workers === w.
    this.#workers.forEach((worker, w) => worker.send({ type: "start", indices: indices.filter((i) => i % workers === w) } satisfies ToWorker));
  }

  /** Clients of `among` whose tunnel is not connected now. */
  notConnected(among: FleetClient[] = this.clients): FleetClient[] {
    return among.filter((c) => c.status.state !== "connected");
  }

  /** Clients that were ever in state "error" (gave up until a person acts). */
  gaveUp(): FleetClient[] {
    return this.clients.filter((c) => c.states.some((s) => s.state === "error"));
  }

  /** Stops every supervisor (and its ssh), every origin, and removes the keys. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.#workers.map(async (worker) => {
      if (worker.exitCode !== null || worker.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      const stopped = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        worker.on("message", (m: { type: string }) => m.type === "stopped" && (clearTimeout(timer), resolve()));
        void exited.then(() => (clearTimeout(timer), resolve()));
      });
      if (worker.connected) worker.send({ type: "stop" } satisfies ToWorker);
      await stopped;
      worker.kill("SIGKILL");
      await exited;
    }));
    // A last resort for an ssh whose worker did not stop it.
    for (const c of this.clients) {
      if (c.status.ssh_pid && c.status.state !== "stopped") {
        try {
          process.kill(c.status.ssh_pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    for (const cleanup of this.#cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
  }
}

/**
 * GETs through the relay's proxy, by ID, for each of `clients` (`concurrency`
 * at a time); returns a line for each that did not answer 200 with its own identity.
 */
export async function wrongAnswers(relay: Relay, clients: FleetClient[], concurrency = 16): Promise<string[]> {
  const wrong: string[] = [];
  await mapLimit(clients, concurrency, async (c) => {
    const path = `/who/${c.id}`;
    try {
      const res = await viaProxy(relay, `${c.id}.${DOMAIN}`, path, { headers: { "proxy-authorization": `Bearer ${c.accessToken}` } });
      if (res.status !== 200 || res.text !== `client ${c.id} ${path}`) wrong.push(`${c.id}: ${res.status} ${res.text.slice(0, 100)}`);
    } catch (error) {
      wrong.push(`${c.id}: ${(error as Error).message}`);
    }
  });
  return wrong;
}

/** Describes the first `max` clients of `clients` with their state and last log lines, for assertion messages. */
export function describeClients(clients: FleetClient[], max = 3): string {
  return clients.slice(0, max).map((c) => {
    const s = c.status;
    return `client ${c.id} (port ${c.port}): ${s.state}, restarts ${s.restarts}, last error ${s.last_error}\n  ` +
      c.log.slice(-8).join("\n  ");
  }).join("\n");
}
