/**
 * The system `ssh`, run with a registered client's own key and pinned host
 * key but with arguments a test chooses: for probing what that key may do.
 * Every session is bounded by a timeout and can be killed by PID.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { RELAY_HOST_KEY_ALIAS } from "../../lib/constants.ts";

/** A running (or finished) ssh started by `sshAsClient`. */
export interface SshSession {
  child: ChildProcess;
  /** Everything ssh wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once ssh has exited. */
  exited: Promise<number | null>;
  /** Resolves once stdout matches `pattern`; rejects if ssh exits first or `timeoutMs` passes. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves once stderr matches `pattern`; rejects if ssh exits first or `timeoutMs` passes. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGKILLs ssh by PID if it still runs, and waits for it to exit. */
  kill(): Promise<void>;
}

const live = new Set<SshSession>();

/**
 * The base argv that logs in with the client in `clientHome` and nothing from
 * ~/.ssh. No agent either: `sshAsClient` passes SSH_AUTH_SOCK only when asked.
 */
export function clientSshArgs(clientHome: string): string[] {
  const config = parse(readFileSync(join(clientHome, "config.toml"), "utf8")).client as { ssh_port: number; ssh_user: string };
  const dir = join(clientHome, "client");
  return [
    "-F", "none", "-i", join(dir, "id_ed25519"),
    "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
    "-o", `HostKeyAlias=${RELAY_HOST_KEY_ALIAS}`, "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no",
    "-o", "ExitOnForwardFailure=yes", "-o", "ConnectTimeout=5", "-o", "ControlMaster=no", "-o", "ControlPath=none",
    "-p", String(config.ssh_port), "-l", config.ssh_user,
  ];
}

/**
 * Starts `ssh <base args> ...args 127.0.0.1 ...command` as the client in
 * `clientHome`. stdin stays an open pipe (the forced command reads it until
 * EOF); ssh is SIGKILLed after `timeoutMs` whatever happens.
 */
export function sshAsClient(
  clientHome: string, args: string[], options: { command?: string[]; timeoutMs?: number; env?: Record<string, string> } = {},
): SshSession {
  const child = spawn("ssh", [...clientSshArgs(clientHome), ...args, "127.0.0.1", ...(options.command ?? [])], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/", ...options.env },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr!.on("data", (chunk: Buffer) => { err += chunk.toString(); });
  child.stdin!.on("error", () => {}); // ssh may exit before we write or close stdin
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", () => { done = true; resolve(null); });
    // "close", not "exit": by then all of ssh's output has been read.
    child.once("close", (code) => { done = true; resolve(code); });
  });
  const timer = setTimeout(() => child.pid && !done && process.kill(child.pid, "SIGKILL"), options.timeoutMs ?? 10_000);
  timer.unref();

  const waitFor = async (read: () => string, name: string, pattern: RegExp, timeoutMs = 8_000): Promise<void> => {
    const start = Date.now();
    while (!pattern.test(read())) {
      const why = done ? "ssh exited" : Date.now() - start > timeoutMs ? `timed out after ${timeoutMs} ms` : "";
      if (why) throw new Error(`${why} before its ${name} matched ${pattern}\nstdout: ${out}\nstderr: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const session: SshSession = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout: (pattern, timeoutMs) => waitFor(() => out, "stdout", pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs) => waitFor(() => err, "stderr", pattern, timeoutMs),
    async kill() {
      clearTimeout(timer);
      if (!done && child.pid) {
        try { process.kill(child.pid, "SIGKILL"); } catch { /* already gone */ }
      }
      await exited;
      live.delete(session);
    },
  };
  live.add(session);
  void exited.then(() => clearTimeout(timer));
  return session;
}

/** Kills every session `sshAsClient` started that still runs: for an `after` hook. */
export async function killAllSshSessions(): Promise<void> {
  await Promise.all([...live].map((s) => s.kill()));
}
