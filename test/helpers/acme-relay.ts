/**
 * A real relay with [server.acme] against its own pebble (pebble.ts), for
 * the ACME e2e tests: started through the CLI as a user would, its
 * certificate awaited, and everything stopped by PID afterwards, clients
 * registered through it included.
 * @module
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connect } from "node:tls";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { parse, stringify } from "smol-toml";
import { DOMAIN, killFromPidFile } from "./fixture.ts";
import { startPebble, type Pebble } from "./pebble.ts";
import { makeHome, petit, petitOk, type RunOptions } from "./petit.ts";
import { freePort, freeRange } from "./ports.ts";

const exec = promisify(execFile);
/** Preloaded into client commands: names under petit.test resolve to 127.0.0.1, as pebble's DNS says. */
const RESOLVER = pathToFileURL(resolve(import.meta.dirname, "resolve-test-domain.mjs")).href;

/** A running relay with ACME, and its CA. */
export interface AcmeRelay {
  home: string;
  ports: { http: number; https: number; api: number; control: number; ssh: number };
  pebble: Pebble;
  /** PEM of pebble's root (from its management port) and the file holding it: the only CA curl trusts. */
  root: string;
  rootFile: string;
  /** Milliseconds from `petit server up` to its return, and to a valid certificate for the relay's own name. */
  upReturnedMs: number;
  certificateMs: number;
  log(): string;
  /** The certificate served for `servername` on the HTTPS port, checked against pebble's root only. */
  served(servername: string): Promise<{ authorized: boolean; serial: string }>;
  /**
   * Polls, 4 times a second, until `servername` gets a certificate pebble's root vouches for (and `also` holds);
   * returns the time taken. Not faster: each handshake is a connection the proxy holds until its head timeout,
   * and it allows one source 256 at once.
   */
  waitForCertificate(servername: string, timeoutMs: number, also?: (served: { serial: string }) => boolean): Promise<number>;
  /** curl https://HOST:PORT/PATH trusting pebble's root only. */
  curl(host: string, path: string, args?: string[]): Promise<{ stdout: string }>;
  /** Registers a client through https://petit.test:API for `target`; returns its home and config. */
  register(name: string, target: string): Promise<{ home: string; id: number; token: string; publicUrl: string }>;
  /**
   * How client commands run: with the test domain's DNS (a preload, so on node: the bundle whatever
   * PETIT_TEST_RUNTIME says; the relay under test runs in it) and pebble's root.
   */
  clientRun(): RunOptions;
  stop(): Promise<void>;
}

/**
 * Starts pebble and a relay initialized with `--acme-email` (and `initArgs(pebble)`), `acme` merged into [server.acme].
 * pebble validates HTTP-01 on the relay's plain port, unless `httpChallengeReachable` is false: then on a port nothing listens on.
 * Several relays sharing a store share one pebble (`pebble`, stopped by its starter) and its HTTP-01 port (`httpPort`),
 * each listening on its own loopback address (`listen`).
 */
export async function startAcmeRelay(
  options: {
    initArgs?: (pebble: Pebble) => string[]; acme?: Record<string, unknown>; httpChallengeReachable?: boolean;
    pebble?: Pebble; httpPort?: number; listen?: string; store?: string;
  } = {},
): Promise<AcmeRelay> {
  const home = makeHome("acme-relay");
  const clients: { dir: string; remove(): void }[] = [];
  const address = options.listen ?? "127.0.0.1";
  const ports = { http: options.httpPort ?? await freePort(), https: await freePort(), api: await freePort(), control: await freePort(), ssh: await freePort() };
  const range = await freeRange(10);
  let pebble: Pebble | undefined;
  const stop = async () => {
    for (const dir of clients) {
      await petit(dir.dir, ["down"], { runtime: "bundle" });
      killFromPidFile(join(dir.dir, "client/clientd.pid"));
      killFromPidFile(join(dir.dir, "client/ssh.pid"));
      dir.remove();
    }
    await petit(home.dir, ["server", "down"]);
    killFromPidFile(join(home.dir, "server/serverd.pid"));
    killFromPidFile(join(home.dir, "server/sshd.pid"));
    home.remove();
    if (!options.pebble) await pebble?.stop();
  };
  try {
    pebble = options.pebble ?? await startPebble({ httpPort: options.httpChallengeReachable === false ? await freePort() : ports.http, tlsPort: ports.https });
    const root = await pebble.root();
    const rootFile = join(home.dir, "pebble-root.pem");
    writeFileSync(rootFile, root);
    await petitOk(home.dir, [
      "server", "init", "--domain", DOMAIN, "--listen", address, "--http-port", String(ports.http), "--https-port", String(ports.https),
      "--api-port", String(ports.api), "--control-port", String(ports.control), "--ssh-port", String(ports.ssh),
      "--port-range", `${range}-${range + 9}`, "--ssh-host", address, ...(options.store ? ["--store", options.store] : []),
      "--acme-email", "ops@example.com", "--acme-directory", pebble.directory, "--acme-ca-file", pebble.listenCaFile, ...(options.initArgs?.(pebble) ?? []),
    ]);
    if (options.acme) {
      // Settings init has no flag for, edited in as a user would.
      const file = join(home.dir, "config.toml");
      const config = parse(readFileSync(file, "utf8")) as { server: { acme: Record<string, unknown> } };
      Object.assign(config.server.acme, options.acme);
      writeFileSync(file, stringify(config), { mode: 0o600 });
    }
    const served = (servername: string) => new Promise<{ authorized: boolean; serial: string }>((done, fail) => {
      const socket = connect({ host: address, port: ports.https, servername, ca: root, rejectUnauthorized: false }, () => {
        done({ authorized: socket.authorized, serial: socket.getPeerX509Certificate()?.serialNumber ?? "" });
        socket.destroy();
      });
      socket.setTimeout(5_000, () => socket.destroy(new Error("TLS handshake timed out")));
      socket.once("error", fail);
    });
    const waitForCertificate = async (servername: string, timeoutMs: number, also = (_: { serial: string }) => true) => {
      const start = Date.now();
      for (;;) {
        const now = await served(servername).catch(() => undefined);
        if (now?.authorized && also(now)) return Date.now() - start;
        if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for a valid certificate for "${servername}"`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const started = Date.now();
    await petitOk(home.dir, ["server", "up"]);
    const upReturnedMs = Date.now() - started;
    await waitForCertificate(DOMAIN, 60_000);
    const certificateMs = Date.now() - started;
    const clientRun = (): RunOptions => ({ runtime: "bundle", env: { NODE_OPTIONS: `--import ${RESOLVER}`, NODE_EXTRA_CA_CERTS: rootFile } });
    return {
      home: home.dir, ports, pebble, root, rootFile, upReturnedMs, certificateMs, served, waitForCertificate, clientRun, stop,
      log: () => readFileSync(join(home.dir, "server/serverd.log"), "utf8"),
      curl: (host, path, args = []) => exec("curl", [
        "-sS", "--max-time", "10", "--cacert", rootFile, "--resolve", `${host}:${ports.https}:${address}`, ...args, `https://${host}:${ports.https}${path}`,
      ]),
      async register(name, target) {
        const dir = makeHome("acme-client");
        clients.push(dir);
        await petitOk(dir.dir, [
          "register", `https://${DOMAIN}:${ports.api}`, "--token", (await petitOk(home.dir, ["server", "token"])).trim(),
          "--to", target, "--name", name, "--control-port", String(await freePort()),
        ], clientRun());
        const client = (parse(readFileSync(join(dir.dir, "config.toml"), "utf8")) as { client: { id: number; access_token: string; public_url: string } }).client;
        return { home: dir.dir, id: client.id, token: client.access_token, publicUrl: client.public_url };
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
