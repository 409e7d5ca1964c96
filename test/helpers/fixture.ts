/**
 * A real relay and real clients, driven through the CLI, for e2e tests.
 * Every fixture stops what it started (petit down, then by PID) and removes
 * its home, also when a test fails.
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { commandLine } from "../../lib/proc/process.ts";
import { request } from "undici";
import { makeHome, petit, petitOk, type Account, type RunOptions, type Runtime } from "./petit.ts";
import { freePort, freeRange } from "./ports.ts";

export const DOMAIN = "petit.test";

/** A running relay. */
export interface Relay {
  home: string;
  httpPort: number;
  apiPort: number;
  controlPort: number;
  sshPort: number;
  rangeFirst: number;
  token: string;
  apiUrl: string;
  stop(): Promise<void>;
}

/**
 * Initializes and starts a relay on free ports of 127.0.0.1, or of `listen`
 * (e.g. "0.0.0.0" for clients in a test's own network namespace); run by
 * account `as` (e.g. an unprivileged one) instead of the test's own.
 */
export async function startRelay(
  options: {
    runtime?: Runtime; rangeSize?: number; listen?: string; as?: Account;
    /** Settings merged into [server]; a function gets the relay's ports first (e.g. for server.node_address). */
    config?: Record<string, unknown> | ((ports: { httpPort: number; apiPort: number; sshPort: number }) => Record<string, unknown>);
    /** Prepares the fresh, empty home (e.g. mounts a small file system on it); returns what undoes that, run before it is removed. */
    prepareHome?: (dir: string) => Promise<() => Promise<void>>;
  } = {},
): Promise<Relay> {
  const made = makeHome("relay", options.as);
  const undo = options.prepareHome ? await options.prepareHome(made.dir) : async () => {};
  const home = { dir: made.dir, remove: async () => { await undo(); made.remove(); } };
  const size = options.rangeSize ?? 40;
  const run: RunOptions = { runtime: options.runtime, as: options.as };
  let ports: number[] = [];
  let rangeFirst = 0;
  // Other tests run at the same time: a port found free can be taken before the relay binds it. Try fresh ones.
  for (let attempt = 1; ; attempt++) {
    ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    rangeFirst = await freeRange(size);
    try {
      await petitOk(home.dir, [
        "server", "init", "--domain", DOMAIN, "--listen", options.listen ?? "127.0.0.1",
        "--http-port", String(ports[0]), "--api-port", String(ports[1]), "--control-port", String(ports[2]),
        "--ssh-port", String(ports[3]), "--port-range", `${rangeFirst}-${rangeFirst + size - 1}`,
      ], run);
      if (options.config) {
        // Settings `server init` has no flag for: merged into [server] as a user would edit config.toml.
        const file = join(home.dir, "config.toml");
        const toml = parse(readFileSync(file, "utf8")) as { server: Record<string, unknown> };
        const config = typeof options.config === "function"
          ? options.config({ httpPort: ports[0], apiPort: ports[1], sshPort: ports[3] }) : options.config;
        Object.assign(toml.server, config);
        // Rewritten in place, so it keeps its owner.
        writeFileSync(file, stringify(toml));
      }
      await petitOk(home.dir, ["server", "up"], run);
      break;
    } catch (error) {
      await stopRelayHome(home.dir, run);
      if (attempt < 3 && /EADDRINUSE/.test(String(error))) continue;
      await home.remove();
      throw error;
    }
  }
  const [httpPort, apiPort, controlPort, sshPort] = ports;
  const token = (await petitOk(home.dir, ["server", "token"], run)).trim();
  return {
    home: home.dir, httpPort, apiPort, controlPort, sshPort, rangeFirst, token,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    async stop() {
      await stopRelayHome(home.dir, run);
      await home.remove();
    },
  };
}

async function stopRelayHome(home: string, run: RunOptions): Promise<void> {
  await petit(home, ["server", "down"], run);
  killFromPidFile(join(home, "server/serverd.pid"));
  killFromPidFile(join(home, "server/sshd.pid"));
}

/**
 * `petit up` for the client in `home`. Other tests run at the same time: the
 * command port found free at registration can be taken by then. Like a user
 * would, pick another one in config.toml and try again.
 */
async function upOnFreePort(home: string, run: RunOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const result = await petit(home, ["up"], run);
    if (result.exitCode === 0) return;
    if (attempt === 3 || !/command port on 127\.0\.0\.1:\d+: EADDRINUSE/.test(String(result.stderr))) {
      throw new Error(`petit up exited ${result.exitCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    const file = join(home, "config.toml");
    const config = parse(readFileSync(file, "utf8"));
    (config.client as { control_port: number }).control_port = await freePort();
    writeFileSync(file, stringify(config), { mode: 0o600 });
  }
}

/** Access tokens of registered clients, by "<proxy port>/<id or name>", so viaProxy can authenticate. */
const accessTokens = new Map<string, string>();

/** A registered client. */
export interface Client {
  home: string;
  id: number;
  port: number;
  name: string;
  accessToken: string;
  up(): Promise<void>;
  down(): Promise<void>;
  stop(): Promise<void>;
}

/** Registers a client with `relay` exposing `target`. */
export async function registerClient(
  relay: Relay,
  options: { name?: string; target: string; runtime?: Runtime; prepareHome?: (dir: string) => Promise<() => Promise<void>> },
): Promise<Client> {
  const made = makeHome("client");
  // See startRelay's prepareHome.
  const undo = options.prepareHome ? await options.prepareHome(made.dir) : async () => {};
  const home = { dir: made.dir, remove: async () => { await undo(); made.remove(); } };
  const controlPort = await freePort();
  const run = { runtime: options.runtime };
  await petitOk(home.dir, [
    "register", relay.apiUrl, "--token", relay.token, "--to", options.target, "--control-port", String(controlPort),
    ...(options.name ? ["--name", options.name] : []),
  ], run);
  const config = parse(readFileSync(join(home.dir, "config.toml"), "utf8")).client as {
    id: number; port: number; name: string; access_token: string;
  };
  for (const label of [String(config.id), config.name].filter(Boolean)) {
    accessTokens.set(`${relay.httpPort}/${label}`, config.access_token);
  }
  return {
    home: home.dir, id: config.id, port: config.port, name: config.name, accessToken: config.access_token,
    up: () => upOnFreePort(home.dir, run),
    down: async () => void (await petitOk(home.dir, ["down"], run)),
    async stop() {
      await petit(home.dir, ["down"]);
      killFromPidFile(join(home.dir, "client/clientd.pid"));
      killFromPidFile(join(home.dir, "client/ssh.pid"));
      await home.remove();
    },
  };
}

/**
 * Sends a request through the relay's proxy with Host `host`, presenting the
 * access token of the client that host names (when registerClient made it),
 * unless `auth` is false.
 */
export async function viaProxy(
  relay: Relay, host: string, path = "/",
  init: { method?: string; body?: unknown; headers?: Record<string, string>; auth?: boolean } = {},
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const token = accessTokens.get(`${relay.httpPort}/${host.split(/[.:]/)[0].toLowerCase()}`);
  const auth: Record<string, string> = token && init.auth !== false ? { "proxy-authorization": `Bearer ${token}` } : {};
  const res = await request(`http://127.0.0.1:${relay.httpPort}${path}`, {
    method: (init.method ?? "GET") as "GET",
    headers: { host, ...auth, ...init.headers },
    body: init.body as string | undefined,
    headersTimeout: 15_000,
    bodyTimeout: 30_000,
  });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

/** Kills the process in a pid file, if any; a last resort after the CLI's own stop. */
export function killFromPidFile(path: string): void {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    // A stale file may name another test's process that got the same PID: only petit's daemons, or ssh and sshd
    // started with files of this home, are killed.
    const home = dirname(dirname(path));
    const argv = pid > 0 ? commandLine(pid) : undefined;
    if (argv && (argv.includes("--foreground") || argv.some((arg) => arg.includes(home)))) process.kill(pid, "SIGKILL");
  } catch {
    // no file or no process
  }
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes; returns the time taken. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await Promise.resolve().then(check).catch(() => false)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
