/**
 * Pid files and stopping a daemon by its pid file.
 * @module
 */
import { rmSync } from "node:fs";
import { writeFileAtomic } from "../fs-atomic.ts";
import { isAlive, readPidFile } from "../proc.ts";

/** Writes this process's PID to `path`; returns a function removing it if it is still ours. */
export function claimPidFile(path: string): () => void {
  writeFileAtomic(path, `${process.pid}\n`, 0o644);
  return () => {
    if (readPidFile(path) === process.pid) rmSync(path, { force: true });
  };
}

/**
 * Sends SIGTERM to the daemon in `path` and waits up to `timeout` ms for it
 * to exit, then SIGKILL. Returns the PID stopped, or undefined when none ran.
 */
export async function stopByPidFile(path: string, timeout = 8_000): Promise<number | undefined> {
  const pid = readPidFile(path);
  if (!pid) {
    rmSync(path, { force: true });
    return undefined;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeout;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  rmSync(path, { force: true });
  return pid;
}
