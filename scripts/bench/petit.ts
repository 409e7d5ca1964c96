/**
 * A real petit relay and client on loopback, driven through the bundled CLI
 * (dist/petit.mjs) exactly as a user runs it, with the PIDs of every process
 * on the tunnel's path (for CPU accounting and for cleanup).
 * @module
 */
import { execa } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { readPidFile } from "../../lib/proc/process.ts";
import { onCleanup, stopPids } from "./cleanup.ts";
import { descendants } from "./cpu.ts";
import { freePort, freeRange } from "./tools.ts";

/** The relay's domain in the benchmark; the client is `1001.<domain>`. */
export const DOMAIN = "bench.test";

/** A running relay and client. */
export interface BenchPetit {
  relayHome: string;
  clientHome: string;
  /** The relay's Host-header proxy. */
  httpPort: number;
  /** The relay's command port (its /metrics). */
  controlPort: number;
  /** The relay end of the client's tunnel: 127.0.0.1:tunnelPort is the bare tunnel. */
  tunnelPort: number;
  /** Headers that route a request to the client and pass its access check: Host and X-Petit-Token. */
  headers: Record<string, string>;
  /** PIDs by role, read now (ssh changes at each `petit up`). */
  pids(): { serverd: number[]; sshd: number[]; ssh: number[]; clientd: number[] };
  /** Runs `petit …args` on the client's home; resolves with the exit code. */
  client(args: string[]): Promise<number>;
}

/** Rebuilds dist/petit.mjs when it is missing or older than any source file. */
export async function ensureBundle(root: string, log: (line: string) => void): Promise<string> {
  const bundle = join(root, "dist/petit.mjs");
  const built = mtime(bundle);
  const sources = [join(root, "cli.ts"), ...listTs(join(root, "lib"))];
  if (built > 0 && sources.every((file) => mtime(file) <= built)) return bundle;
  log("building dist/petit.mjs (missing or older than the sources)…");
  await execa(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdin: "ignore" });
  return bundle;
}

/**
 * Starts a relay (`petit server init` + `server up`) and a client for
 * 127.0.0.1:`originPort` (`register` + `up`). `nodeArgs` go before the
 * bundle for `server up` only, and so reach petit-serverd (e.g. --cpu-prof).
 */
export async function startPetit(options: { bundle: string; originPort: number; nodeArgs?: string[] }): Promise<BenchPetit> {
  // sshd's StrictModes refuses key files below world-writable folders such as /tmp.
  const base = join(homedir(), ".cache", "petit-bench");
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const relayHome = mkdtempSync(join(base, "relay-"));
  const clientHome = mkdtempSync(join(base, "client-"));
  const run = async (home: string, args: string[], nodeArgs: string[] = []): Promise<string> => {
    const result = await execa(process.execPath, [...nodeArgs, options.bundle, ...args], {
      env: { PETIT_HOME: home, NO_COLOR: "1" }, reject: false, stdin: "ignore", timeout: 60_000,
    });
    if (result.exitCode !== 0) {
      throw new Error(`petit ${args.join(" ")} exited ${result.exitCode}: ${String(result.stderr || result.stdout).trim()}`);
    }
    return String(result.stdout);
  };
  const pid = (home: string, file: string): number[] => {
    const found = readPidFile(join(home, file));
    return found ? [found] : [];
  };
  const pids = () => {
    const sshd = pid(relayHome, "server/sshd.pid");
    return {
      serverd: pid(relayHome, "server/serverd.pid"),
      sshd: [...sshd, ...sshd.flatMap(descendants)],
      ssh: pid(clientHome, "client/ssh.pid"),
      clientd: pid(clientHome, "client/clientd.pid"),
    };
  };
  onCleanup("petit relay", async () => {
    const left = pids();
    await run(relayHome, ["server", "down"]).catch(() => undefined);
    // By PID as well: sessions outlive a dead sshd listener, and a stuck daemon outlives "down".
    await stopPids([...left.serverd, ...left.sshd]);
    rmSync(relayHome, { recursive: true, force: true });
  });
  onCleanup("petit client", async () => {
    const left = pids();
    await run(clientHome, ["down"]).catch(() => undefined);
    await stopPids([...left.clientd, ...left.ssh]);
    rmSync(clientHome, { recursive: true, force: true });
  });

  const [http, api, control, ssh, clientControl] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const first = await freeRange(10);
  await run(relayHome, [
    "server", "init", "--domain", DOMAIN, "--listen", "127.0.0.1", "--http-port", String(http),
    "--api-port", String(api), "--control-port", String(control), "--ssh-port", String(ssh),
    "--port-range", `${first}-${first + 9}`,
  ]);
  await run(relayHome, ["server", "up"], options.nodeArgs);
  const token = (await run(relayHome, ["server", "token"])).trim();
  await run(clientHome, [
    "register", `http://127.0.0.1:${api}`, "--token", token, "--to", `127.0.0.1:${options.originPort}`,
    "--control-port", String(clientControl),
  ]);
  const config = parse(readFileSync(join(clientHome, "config.toml"), "utf8")).client as { id: number; port: number; access_token: string };
  await run(clientHome, ["up"]);
  return {
    relayHome, clientHome, httpPort: http, controlPort: control, tunnelPort: config.port, pids,
    // The relay's default: visitors present the client's access token (petit strips it before the tunnel).
    headers: { host: `${config.id}.${DOMAIN}`, "x-petit-token": config.access_token },
    client: async (args) => (await execa(process.execPath, [options.bundle, ...args], {
      env: { PETIT_HOME: clientHome, NO_COLOR: "1" }, reject: false, stdin: "ignore", timeout: 60_000,
    })).exitCode ?? 1,
  };
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
}
