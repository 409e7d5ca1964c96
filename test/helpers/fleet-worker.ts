/**
 * A child process running a share of a Fleet's TunnelSupervisors (see
 * many-clients.ts), driven over IPC.
 *
 * Why processes: each supervisor spawns ssh with fork(), and a fork copies the
 * parent's memory map while holding its lock, so every other thread of the
 * parent stalls meanwhile. From one big test process (or its worker threads),
 * 100 spawns during a CPU-saturating storm stalled all supervisors for
 * 10-20 s — a cost of the harness, not of a real fleet, where each client's
 * ssh is forked by its own small petit-clientd. Small processes fork quickly
 * and stall only themselves.
 * @module
 */
import { TunnelSupervisor } from "../../lib/client/supervisor.ts";
import { canConnect } from "../../lib/net.ts";

/** Where a client's ssh goes: its arguments for one relay, and that relay's SSH endpoint (probed while waiting). */
export interface WorkerRoute {
  args: string[];
  host: string;
  port: number;
}

/** What a worker runs: one entry per client; with several routes (relays sharing a store) it moves on as petit-clientd does. */
export interface WorkerSpec {
  index: number;
  routes: WorkerRoute[];
}

/** Messages from the test to a worker. */
export type ToWorker = { type: "init"; specs: WorkerSpec[] } | { type: "start"; indices: number[] } | { type: "stop" };

const supervisors = new Map<number, TunnelSupervisor>();
const send = (message: unknown) => process.connected && process.send!(message);

function init(specs: WorkerSpec[]): void {
  for (const spec of specs) {
    const log: string[] = [];
    let at = 0;
    const { routes } = spec;
    const supervisor = new TunnelSupervisor({
      sshPath: "ssh",
      args: routes[0].args,
      log: (line) => {
        log.push(`${new Date().toISOString()} ${line}`);
        if (log.length > 12) log.shift();
      },
      // As petit-clientd does: probe the relay while waiting, retry when it is back.
      probe: () => canConnect(routes[at].host, routes[at].port, 1_000),
      failover: routes.length < 2 ? undefined : {
        count: routes.length,
        next() {
          at = (at + 1) % routes.length;
          return { args: routes[at].args, relay: `${routes[at].host}:${routes[at].port}` };
        },
      },
    });
    supervisor.onChange(() => {
      send({ type: "state", index: spec.index, status: supervisor.status(), at: Date.now(), log: log.slice(-8) });
    });
    supervisors.set(spec.index, supervisor);
  }
}

async function stopAll(): Promise<void> {
  await Promise.allSettled([...supervisors.values()].map((s) => s.stop()));
}

process.on("message", (message: ToWorker) => {
  if (message.type === "init") {
    init(message.specs);
    send({ type: "ready" });
  } else if (message.type === "start") {
    for (const index of message.indices) supervisors.get(index)?.start();
  } else {
    void stopAll().then(() => send({ type: "stopped" }));
  }
});
// The test process went away (even killed): stop every ssh, then leave.
process.on("disconnect", () => void stopAll().then(() => process.exit(0)));
