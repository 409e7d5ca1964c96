/**
 * Pid files and stopping a daemon by its pid file.
 * @module
 */
import { rmSync } from "node:fs";
import { writeFileAtomic } from "../fs-atomic.ts";
import { commandLine, isAlive, readPidFile } from "../proc/process.ts";

/** Writes this process's PID to `path`; returns a function removing it if it is still ours. */
export function claimPidFile(path: string): () => void {
  writeFileAtomic(path, `${process.pid}\n`, 0o644);
  return () => {
    if (readPidFile(path) === process.pid) rmSync(path, { force: true });
  };
}

/**
 * Tells whether `pid` runs petit's daemon of `role` (`petit up --foreground`
 * or `petit server up --foreground`, under any runtime).
 */
export function isPetitDaemon(pid: number, role: "client" | "server"): boolean {
  const argv = commandLine(pid);
  if (!argv?.includes("up") || !argv.includes("--foreground")) return false;
  return argv.includes("server") === (role === "server");
}

/**
 * Returns the PID in the pid file `path` when it is a live petit daemon of
 * `role`. After a reboot or a crash a stale file may name an unrelated
 * process that got the same PID: that one must never be signalled.
 */
export function readDaemonPid(path: string, role: "client" | "server"): number | undefined {
  const pid = readPidFile(path);
  return pid && isPetitDaemon(pid, role) ? pid : undefined;
}

/**
 * Sends SIGTERM to the process in `path` when `isOurs(pid)` says it is the
 * one the file was written for, waits up to `timeout` ms for it to exit,
 * then SIGKILL. Returns the PID stopped, or undefined when none ran (a stale
 * file, naming no process or somebody else's, is removed).
 */
export async function stopByPidFile(
  path: string, isOurs: (pid: number) => boolean, timeout = 8_000,
): Promise<number | undefined> {
  const pid = readPidFile(path);
  if (!pid || !isOurs(pid)) {
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
