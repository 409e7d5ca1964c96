/**
 * The programs the benchmark drives (wrk, nginx, curl): finding them,
 * installing them with apt-get when missing and root, running them with a
 * hard time limit; and free loopback ports.
 * @module
 */
import { execa } from "execa";
import { createServer } from "node:net";
import { onCleanup } from "./cleanup.ts";

/** Tells whether `program` is on PATH (or is an executable path). */
export async function has(program: string): Promise<boolean> {
  const result = await execa("sh", ["-c", `command -v "$0"`, program], { reject: false, stdin: "ignore" });
  return result.exitCode === 0;
}

/**
 * Makes sure `program` exists: installs Debian package `pkg` with apt-get
 * when missing and running as root. Returns false (after saying why) when it
 * is still missing, so the caller can skip or fall back.
 */
export async function ensureProgram(program: string, pkg: string, log: (line: string) => void): Promise<boolean> {
  if (await has(program)) return true;
  if (process.getuid?.() !== 0 || !(await has("apt-get"))) {
    log(`"${program}" is missing and this is not root with apt-get: run "sudo apt-get install -y ${pkg}" to include it`);
    return false;
  }
  log(`installing ${pkg} with apt-get…`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = () => execa("apt-get", ["install", "-y", "-qq", pkg], { reject: false, stdin: "ignore", env, timeout: 300_000 });
  if ((await install()).exitCode !== 0) {
    await execa("apt-get", ["update", "-qq"], { reject: false, stdin: "ignore", env, timeout: 300_000 });
    const again = await install();
    if (again.exitCode !== 0) log(`apt-get install ${pkg} failed: ${again.stderr.trim().split("\n").pop()}`);
  }
  return has(program);
}

/**
 * Runs `program args` to completion, killed after `timeoutMs`; its PID is
 * registered for cleanup while it runs. Returns stdout; throws with stderr on
 * a non-zero exit.
 */
export async function runBounded(program: string, args: string[], timeoutMs: number): Promise<string> {
  const child = execa(program, args, { reject: false, stdin: "ignore", timeout: timeoutMs, forceKillAfterDelay: 2_000 });
  const forget = onCleanup(`${program} (pid ${child.pid})`, () => void child.kill("SIGKILL"));
  const result = await child;
  forget();
  if (result.exitCode !== 0) {
    const why = result.timedOut ? `timed out after ${timeoutMs} ms` : `exited ${result.exitCode}`;
    throw new Error(`${program} ${args.join(" ")} ${why}: ${String(result.stderr).trim().slice(0, 500)}`);
  }
  return String(result.stdout);
}

/** Returns a TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Returns the first of `count` consecutive ports free on 127.0.0.1 now, picked
 * at random in 20000-32767: below Linux's ephemeral range, where an outgoing
 * connection could take a port after it was handed to a client.
 */
export async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * (12_768 - count));
    let free = true;
    for (let port = first; free && port < first + count; port++) free = await portFree(port);
    if (free) return first;
  }
  throw new Error(`Cannot find ${count} consecutive free ports on 127.0.0.1`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
