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

/** What a worker runs: one entry per client. */
export interface WorkerSpec {
  index: number;
  args: string[];
  probeHost: string;
  probePort: number;
}

/** Messages from the test to a worker. */
export type ToWorker = { type: "init"; specs: WorkerSpec[] } | { type: "start"; indices: number[] } | { type: "stop" };

const supervisors = new Map<number, TunnelSupervisor>();
const send = (message: unknown) => process.connected && process.send!(message);

function init(specs: WorkerSpec[]): void {
  for (const spec of specs) {
    const log: string[] = [];
    const supervisor = new TunnelSupervisor({
      sshPath: "ssh",
      args: spec.args,
      log: (line) => {
        log.push(`${new Date().toISOString()} ${line}`);
        if (log.length > 12) log.shift();
      },
      // As petit-clientd does: probe the relay while waiting, retry when it is back.
      probe: () => canConnect(spec.probeHost, spec.probePort, 1_000),
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
