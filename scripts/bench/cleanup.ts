/**
 * Everything the benchmark starts is registered here and stopped at the end,
 * in reverse order of start, by PID: also on Ctrl-C, SIGTERM or a failure.
 * @module
 */
import { isAlive } from "../../lib/proc/process.ts";

interface Step {
  what: string;
  run: () => Promise<void> | void;
}

const steps: Step[] = [];
let cleaning: Promise<void> | undefined;

/** Registers `run` to stop `what` at the end; returns a function that unregisters it (once stopped early). */
export function onCleanup(what: string, run: Step["run"]): () => void {
  const step = { what, run };
  steps.push(step);
  return () => {
    const index = steps.indexOf(step);
    if (index >= 0) steps.splice(index, 1);
  };
}

/** Runs every registered step, newest first; a failing step is reported and the others still run. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`bench: cannot stop ${step.what}: ${(error as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

/** Tells whether cleanup has begun (after a signal, the main flow's failures are expected). */
export function cleanupStarted(): boolean {
  return cleaning !== undefined;
}

/** Stops everything on SIGINT / SIGTERM, then exits 130 / 143. */
export function cleanupOnSignals(): void {
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (cleaning) return;
    process.stderr.write(`\nbench: ${signal}: stopping everything it started…\n`);
    void cleanupAll().finally(() => process.exit(code));
  };
  // "on", not "once": the listeners must stay, or tsx's own handler sees none left and exits before cleanup ends.
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
}

/** Sends SIGTERM to each PID, waits up to `graceMs` for all to end, then SIGKILLs the rest. */
export async function stopPids(pids: number[], graceMs = 3_000): Promise<void> {
  const live = pids.filter((pid) => pid > 0 && isAlive(pid));
  for (const pid of live) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(isAlive)) await sleep(25);
  for (const pid of live) if (isAlive(pid)) signal(pid, "SIGKILL");
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
