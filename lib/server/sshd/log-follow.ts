/**
 * A copy of the system sshd's log lines in petit's own `server/sshd.log`.
 * The system sshd logs to the journal or to syslog, not to a file petit
 * owns; `petit logs --server` reads `server/sshd.log` in either mode, so in
 * system mode petit follows sshd's log and appends here. Nothing acts on
 * these lines: sshd quotes what network peers send.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { systemdRuns } from "./system-sshd-query.ts";

/** Seconds before a follower that exited is started again. */
const RESTART_DELAY_MS = 5_000;

/**
 * Returns where the system sshd's log can be followed: `configured` when set
 * ("journal" or a file; "none" for nowhere), else the journal where systemd
 * runs, else the first syslog file that exists. Undefined: nowhere.
 */
export function resolveLogSource(configured: string): string | undefined {
  if (configured === "none") return undefined;
  if (configured) return configured;
  if (systemdRuns()) return "journal";
  return ["/var/log/auth.log", "/var/log/secure"].find(existsSync);
}

/** Returns the program and arguments that print new lines of `source` as they come. */
export function followCommand(source: string): [string, string[]] {
  // sshd-session is the per-connection binary of OpenSSH 9.8 and later; it logs the bind failures there.
  if (source === "journal") return ["journalctl", ["--follow", "--lines=0", "--output=short-iso", "_COMM=sshd", "_COMM=sshd-session"]];
  // --pid: tail ends within a second of petit-serverd, even after a kill -9.
  return ["tail", ["-n", "0", "-F", `--pid=${process.pid}`, source]];
}

/** Follows `source` into `into` until stop(); restarts the follower when it exits, logging why. */
export class SshdLogFollower {
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #restarts = 0;

  constructor(private readonly source: string, private readonly into: string, private readonly log: (line: string) => void) {}

  start(): void {
    const [program, args] = followCommand(this.source);
    // stdout is a pipe to us, not the file itself: if petit-serverd dies, the follower's next write fails and it exits.
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    const fd = openSync(this.into, "a", 0o600);
    child.stdout.on("data", (chunk: Buffer) => writeSync(fd, chunk));
    child.stderr.on("data", (chunk: Buffer) => this.log(`sshd log follower: ${chunk.toString("utf8").trim()}`));
    child.on("error", (error) => this.log(`sshd log follower: cannot run ${program}: ${error.message}`));
    child.on("close", (code, signal) => {
      closeSync(fd);
      if (this.#stopping) return;
      this.#restarts++;
      this.log(`sshd log follower (${program} ${args.join(" ")}) exited with ${signal ?? `code ${code}`}; ` +
        `restarting in ${RESTART_DELAY_MS / 1000} s (restart ${this.#restarts})`);
      this.#timer = setTimeout(() => this.start(), RESTART_DELAY_MS);
      this.#timer.unref();
    });
  }

  stop(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#child?.kill("SIGTERM");
  }
}
