/**
 * Signalling processes that may be gone already, and stopping a group of them
 * the patient way: SIGTERM, a grace period, then SIGKILL.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "./process.ts";

/** Sends `name` to `pid`; a process that is gone already is no error. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * Sends SIGTERM to every one of `pids`, waits up to `graceMs` for them all to
 * exit (polling every 50 ms), then sends SIGKILL to those still alive.
 */
export async function terminate(pids: number[], graceMs: number): Promise<void> {
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids) if (isAlive(pid)) signal(pid, "SIGKILL");
}
