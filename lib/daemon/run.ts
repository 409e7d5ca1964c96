/**
 * Running a daemon in the foreground until a signal, and starting one in
 * the background and waiting until it says it is ready.
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { rotateOwnLog } from "./log-file.ts";
import { spawnSelf } from "./self.ts";

/**
 * Runs `start()` and keeps the process alive until SIGTERM, SIGINT or
 * SIGUSR2, then calls the returned `stop()` with that signal. Resolves with
 * the exit code. Started by spawnSelf(), it also rotates its own log file.
 */
export async function runForeground(
  start: () => Promise<{ stop(signal?: NodeJS.Signals): Promise<void>; reload?(): void }>, log: (line: string) => void,
): Promise<number> {
  rotateOwnLog(log);
  let running: Awaited<ReturnType<typeof start>>;
  try {
    running = await start();
  } catch (error) {
    // One line, so "petit up" / "petit server up" can show the reason from the log's tail.
    log(`cannot start: ${(error as Error).message}`);
    return 1;
  }
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log(`received ${signal}; stopping`);
      running.stop(signal).then(() => resolve(0), (error) => {
        log(`stop failed: ${(error as Error).message}`);
        resolve(1);
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    process.on("SIGUSR2", onSignal);
    process.on("SIGHUP", () => {
      try {
        if (running.reload) running.reload();
        else log("received SIGHUP; nothing to reload");
      } catch (error) {
        log(`reload failed, keeping the old settings: ${(error as Error).message}`);
      }
    });
  });
}

/** Returns the size of the log at `path` (0 when missing), to read what comes after it. */
export function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Returns the last lines written to the log at `path` since byte `from` (from its start when it was rotated since). */
export function logTail(path: string, from: number, lines = 5): string {
  try {
    const text = readFileSync(path);
    return text.subarray(text.length < from ? 0 : from).toString("utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** What a readiness probe says. */
export type Readiness = { ready: true } | { ready: false; reason?: string };

/**
 * Starts `petit <args>` in the background and polls `probe` until it is
 * ready, the daemon exits, or `timeoutMs` passes.
 */
export async function startInBackground(options: {
  args: string[];
  logFile: string;
  probe: () => Promise<Readiness>;
  timeoutMs: number;
}): Promise<{ ok: true; pid: number } | { ok: false; pid: number; reason: string }> {
  const from = logSize(options.logFile);
  const child = spawnSelf(options.args, options.logFile);
  const deadline = Date.now() + options.timeoutMs;
  let last: Readiness = { ready: false };
  while (Date.now() < deadline) {
    if (child.exited() !== null) {
      return { ok: false, pid: child.pid, reason: logTail(options.logFile, from) || `exited with code ${child.exited()}` };
    }
    last = await options.probe().catch((error) => ({ ready: false, reason: (error as Error).message }));
    if (last.ready) return { ok: true, pid: child.pid };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ok: false, pid: child.pid, reason: (!last.ready && last.reason) || `not ready within ${options.timeoutMs / 1000} s` };
}
