/**
 * One run of the tunnel's ssh: spawned with stdin held open, its stderr
 * logged, its stdout watched for the relay's ready marker, and killed when it
 * is not ready within the connect timeout. The supervisor decides what a run
 * means; this file only runs it.
 * @module
 */
import { execa, type ResultPromise } from "execa";
import { createInterface } from "node:readline";
import { READY_MARKER } from "../constants.ts";
import { CANNOT_RUN_SSH } from "./classify.ts";

/** What a run is told, and whom it tells. */
export interface SshRunOptions {
  sshPath: string;
  args: string[];
  /** A run not ready after this long is killed (and reported as timed out). */
  connectTimeoutMs: number;
  log: (line: string) => void;
  /** The relay's forced command printed its ready marker: the forwards are up. */
  onReady: () => void;
  /** ssh has exited; `stderr` holds its last lines (20 at most). */
  onExit: (exitCode: number | null, signal: string | null, stderr: string[]) => void;
}

/** Starts ssh; the returned process can be killed, and resolves when ssh has exited. */
export function startSshRun(o: SshRunOptions): ResultPromise {
  // stdin stays an open pipe for the daemon's whole life: the relay's forced
  // command waits for its end, so the session dies with this process.
  const child = execa(o.sshPath, o.args, {
    stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false, cleanup: true,
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line);
    if (stderr.length > 20) stderr.shift();
    o.log(`ssh: ${line}`);
  });
  let ready = false;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!ready && line.trim() === READY_MARKER) {
      ready = true;
      o.onReady();
    }
  });
  let timedOut = false;
  const watchdog = setTimeout(() => {
    if (ready) return;
    o.log(`tunnel: not connected after ${o.connectTimeoutMs / 1000} s; killing ssh to retry`);
    timedOut = true;
    child.kill("SIGKILL");
  }, o.connectTimeoutMs);
  void child.then((result) => {
    clearTimeout(watchdog);
    if (timedOut) stderr.push("Connection timed out: not connected within the connect timeout");
    // Neither an exit code nor a signal: ssh never ran (no such file, not executable).
    if (result.exitCode === undefined && !result.signal && !timedOut) {
      stderr.push(`${CANNOT_RUN_SSH} "${o.sshPath}": ${(result as { code?: string }).code ?? result.shortMessage}`);
    }
    // Wait a tick so the last stderr lines are read before anyone classifies them.
    setImmediate(() => o.onExit(result.exitCode ?? null, timedOut ? null : result.signal ?? null, stderr));
  });
  return child;
}
