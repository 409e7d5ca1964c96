/**
 * The Debian package, installed for real: built from this checkout (the
 * single executable, then two .debs, the second a newer version of the same
 * build), installed with apt into a Debian bookworm root booted with systemd
 * as PID 1 (see helpers/systemd-root.ts), with no Node.js in it. One system
 * runs the relay and a client, as the package's units, on petit's default
 * ports in its own network namespace; the tests run in order on it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa, type ResultPromise } from "execa";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootSystemdRoot, ensureHostPrograms, pristineRoot, systemdRootUnavailable, type BootedRoot } from "../helpers/systemd-root.ts";
import { ensureExecutable } from "../helpers/executable.ts";
import { ROOT } from "../helpers/petit.ts";

const skip = await systemdRootUnavailable();
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
/** The "newer build" the upgrade installs: same executable, higher version. */
const NEWER = `${VERSION}+upgrade1`;
const DOMAIN = "relay.example.com";
const ORIGIN_PORT = 8080;
/** The relay's certificate: the administrator's files, outside /etc/petit, which purge must leave alone. */
const TLS_CERT = "/etc/ssl/relay/cert.pem";
const TLS_KEY = "/etc/ssl/relay/key.pem";

/** An HTTPS GET to the relay's proxy (port 80, TLS) inside the booted system, with `host`; resolves with status and body. */
const GET_SCRIPT = `
const [host] = process.argv.slice(1);
require("node:https").get({ host: "127.0.0.1", port: 80, path: "/", headers: { host }, rejectUnauthorized: false, timeout: 5000 }, (res) => {
  let body = ""; res.on("data", (d) => body += d); res.on("end", () => { console.log(JSON.stringify({ status: res.statusCode, body })); });
}).on("error", (e) => { console.log(JSON.stringify({ status: 0, body: e.message })); });`;

/** The SHA-256 fingerprint of the certificate the proxy serves, inside the booted system. */
const FINGERPRINT_SCRIPT = `
const socket = require("node:tls").connect({ host: "127.0.0.1", port: 80, rejectUnauthorized: false }, () => {
  console.log(socket.getPeerX509Certificate().fingerprint256); socket.destroy();
});`;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

describe("the Debian package in a Debian system booted with systemd", { skip, timeout: 900_000 }, () => {
  let system: BootedRoot;
  let origin: ResultPromise | undefined;
  let work: string;
  let clientId = 0;
  const debs: Record<string, string> = {};

  /** Runs `petit …` as root inside the system. */
  const petit = (args: string[]) => system.run(["petit", ...args]);
  const mainPid = async (unit: string) => Number((await system.run(["systemctl", "show", "-P", "MainPID", unit])).trim());
  /** kill -9 of `unit`'s main process; refuses PID 0 ("kill -9 0" would hit the test's own process group). */
  const killMain = async (unit: string) => {
    const pid = await mainPid(unit);
    assert.ok(pid > 1, `${unit} has a main process`);
    await system.run(["kill", "-9", String(pid)]);
    return pid;
  };
  const visit = async (host: string) => {
    const [program, ...args] = system.inNetwork([process.execPath, "-e", GET_SCRIPT, host]);
    return JSON.parse((await execa(program, args, { timeout: 15_000 })).stdout) as { status: number; body: string };
  };
  const servedFingerprint = async () => {
    const [program, ...args] = system.inNetwork([process.execPath, "-e", FINGERPRINT_SCRIPT]);
    return (await execa(program, args, { timeout: 15_000 })).stdout.trim();
  };
  const tunnelWorks = () => waitFor("a request through the tunnel", 30_000, async () => {
    const answer = await visit(`web.${DOMAIN}`);
    return answer.status === 200 && answer.body === "hello from the origin" && answer;
  });
  /** PID of the sshd petit-serverd runs (its pid file), and of the client's ssh. */
  /** The command lines of every process in the system. */
  const processes = () => system.run(["ps", "-eo", "args"]);
  const sshdPid = () => Number(readFileSync(join(system.dir, "var/lib/petit/server/sshd.pid"), "utf8").trim());
  const clientSshPid = () => Number(readFileSync(join(system.dir, "var/lib/petit/client/ssh.pid"), "utf8").trim());

  before(async () => {
    const started = Date.now();
    work = mkdtempSync(join(tmpdir(), "petit-deb-"));
    // The package is built from this checkout: the executable when missing or older than the sources, then both versions (xz level 0: seconds, not a minute).
    await ensureHostPrograms({ openssl: "openssl", "dpkg-deb": "dpkg" });
    ensureExecutable("linux-x64");
    for (const version of [VERSION, NEWER]) {
      execFileSync(process.execPath, ["scripts/package/deb.mjs", "--arch", "amd64", "--version", version, "--level", "0", "--out", work], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
      debs[version] = join(work, `petit_${version}_amd64.deb`);
    }
    system = await bootSystemdRoot(await pristineRoot(), "deb");
    for (const file of Object.values(debs)) copyFileSync(file, join(system.dir, "root", file.split("/").at(-1)!));
    // The service the client exposes: node from the host, in the system's network namespace.
    const [program, ...args] = system.inNetwork([process.execPath, "-e",
      `require("node:http").createServer((q, s) => s.end("hello from the origin")).listen(${ORIGIN_PORT}, "127.0.0.1")`]);
    origin = execa(program, args, { reject: false, stdin: "ignore" });
    process.stderr.write(`# package built and system booted in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  after(async () => {
    origin?.kill("SIGKILL");
    await origin;
    await system?.shutdown();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("apt-get installs the package into a system without Node.js and pulls OpenSSH in as its dependency", async () => {
    assert.notEqual((await system.exec(["sh", "-c", "command -v node"])).exitCode, 0, "the system has no node");
    assert.notEqual((await system.exec(["dpkg", "-s", "openssh-server"])).exitCode, 0, "OpenSSH is not installed yet");
    await system.run(["apt-get", "install", "-y", `/root/petit_${VERSION}_amd64.deb`], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    for (const pkg of ["openssh-server", "openssh-client"]) assert.match(await system.run(["dpkg-query", "-W", "-f", "${Status}", pkg]), /install ok installed/);
    assert.equal((await petit(["--version"])).trim(), VERSION);
    assert.ok(existsSync(join(system.dir, "usr/share/man/man1/petit.1.gz")));
    assert.ok(existsSync(join(system.dir, "usr/share/bash-completion/completions/petit")));
  });

  test("the units wait for the configuration: starting one before petit server init does nothing", async () => {
    assert.equal((await system.exec(["systemctl", "is-enabled", "petit-server.service"])).stdout.trim(), "disabled");
    await system.run(["systemctl", "start", "petit-server.service"]);
    assert.equal((await system.exec(["systemctl", "is-active", "petit-server.service"])).stdout.trim(), "inactive");
    assert.match(await system.run(["systemctl", "show", "-P", "ConditionResult", "petit-server.service"]), /no/);
  });

  test("petit server init and systemctl enable --now petit-server run a relay that root's petit commands talk to", async () => {
    // A certificate for the proxy and the API, so that reload has something to reload.
    await system.run(["mkdir", "-p", "/etc/ssl/relay"]);
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=first", "-addext", `subjectAltName=IP:127.0.0.1,DNS:*.${DOMAIN}`,
      "-keyout", join(system.dir, TLS_KEY.slice(1)), "-out", join(system.dir, TLS_CERT.slice(1))], { stdio: "ignore" });
    await petit(["server", "init", "--domain", DOMAIN]);
    const configFile = join(system.dir, "etc/petit/config.toml");
    writeFileSync(configFile, readFileSync(configFile, "utf8")
      .replace(/^tls_cert = .*$/m, `tls_cert = "${TLS_CERT}"`).replace(/^tls_key = .*$/m, `tls_key = "${TLS_KEY}"`));
    assert.ok(existsSync(join(system.dir, "var/lib/petit/server/enroll.token")), "state goes to /var/lib/petit");
    assert.equal(existsSync(join(system.dir, "root/.petit")), false, "root's petit is the system installation, not ~/.petit");
    await system.run(["systemctl", "enable", "--now", "petit-server.service"]);
    const token = await waitFor("petit server token", 30_000, async () => (await petit(["server", "token"])).trim());
    assert.match(token, /^\S{20,}$/);
    assert.match(await petit(["server", "clients"]), /no clients|ID/i);
    // The relay logs to the journal.
    await waitFor("petit-serverd's log in the journal", 10_000, async () =>
      /sshd: started pid/.test(await system.run(["journalctl", "-u", "petit-server.service", "--no-pager"])));
  });

  test("a client registered with the same package and started as petit.service carries a request through the tunnel", async () => {
    const token = (await petit(["server", "token"])).trim();
    const registered = JSON.parse(await system.run(["petit", "register", "https://127.0.0.1:3014", "--token", token, "--name", "web", "--to", `127.0.0.1:${ORIGIN_PORT}`, "--json"],
      { env: { NODE_EXTRA_CA_CERTS: TLS_CERT } })) as { id: number };
    clientId = registered.id;
    await petit(["server", "access", String(clientId), "--public"]);
    // The client daemon calls the relay's API too: it must trust the test's certificate, through the unit's environment.
    await system.run(["mkdir", "-p", "/etc/systemd/system/petit.service.d"]);
    writeFileSync(join(system.dir, "etc/systemd/system/petit.service.d/ca.conf"), `[Service]\nEnvironment=NODE_EXTRA_CA_CERTS=${TLS_CERT}\n`);
    await system.run(["systemctl", "daemon-reload"]);
    await system.run(["systemctl", "enable", "--now", "petit.service"]);
    await tunnelWorks();
    assert.match(await petit(["server", "clients"]), /web/);
  });

  test("kill -9 of petit-serverd: systemd starts it again and the open tunnel survives", async () => {
    const sshd = sshdPid();
    const ssh = clientSshPid();
    const serverd = await killMain("petit-server.service");
    const restarted = await waitFor("a new petit-serverd", 30_000, async () => {
      const pid = await mainPid("petit-server.service");
      return pid !== 0 && pid !== serverd && (await system.exec(["systemctl", "is-active", "petit-server.service"])).stdout.trim() === "active" && pid;
    });
    assert.ok(restarted);
    await waitFor("petit-serverd to answer", 30_000, async () => (await system.exec(["petit", "server", "clients"])).exitCode === 0);
    assert.equal(sshdPid(), sshd, "the relay's sshd kept running");
    assert.equal(clientSshPid(), ssh, "the client's ssh session was never cut");
    await tunnelWorks();
  });

  test("kill -9 of petit-clientd: systemd starts it again and the tunnel comes back", async () => {
    const clientd = await killMain("petit.service");
    await waitFor("a new petit-clientd", 30_000, async () => {
      const pid = await mainPid("petit.service");
      return pid !== 0 && pid !== clientd;
    });
    await tunnelWorks();
  });

  test("systemctl reload petit-server loads a renewed certificate without a restart", async () => {
    const first = await servedFingerprint();
    const serverd = await mainPid("petit-server.service");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", "/CN=renewed", "-addext", `subjectAltName=IP:127.0.0.1,DNS:*.${DOMAIN}`,
      "-keyout", join(system.dir, TLS_KEY.slice(1)), "-out", join(system.dir, TLS_CERT.slice(1))], { stdio: "ignore" });
    await system.run(["systemctl", "reload", "petit-server.service"]);
    const renewed = await waitFor("the renewed certificate", 10_000, async () => {
      const now = await servedFingerprint();
      return now !== first && now;
    });
    assert.match(renewed, /^[0-9A-F:]{95}$/);
    assert.equal(await mainPid("petit-server.service"), serverd, "petit-serverd was not restarted");
    await tunnelWorks();
  });

  test("an upgrade to a newer build restarts petit-serverd onto it and keeps the config, the registrations and the relay's sshd", async () => {
    const configBefore = readFileSync(join(system.dir, "etc/petit/config.toml"), "utf8");
    const serverd = await mainPid("petit-server.service");
    const sshd = sshdPid();
    await system.run(["apt-get", "install", "-y", `/root/petit_${NEWER}_amd64.deb`], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    assert.equal((await system.run(["dpkg-query", "-W", "-f", "${Version}", "petit"])).trim(), NEWER);
    assert.equal(readFileSync(join(system.dir, "etc/petit/config.toml"), "utf8"), configBefore, "the upgrade kept config.toml as it was");
    // A new petit-serverd, running the upgraded file (not the deleted old one; and past systemd's fork, before exec).
    await waitFor("petit-serverd restarted onto the new build", 30_000, async () => {
      const pid = await mainPid("petit-server.service");
      return pid !== 0 && pid !== serverd && /\/usr\/bin\/petit$/.test((await system.exec(["readlink", `/proc/${pid}/exe`])).stdout);
    });
    assert.equal(sshdPid(), sshd, "the relay's sshd, and so every open tunnel, kept running");
    assert.match(await petit(["server", "clients"]), /web/);
    const upgraded = Date.now();
    await tunnelWorks();
    // petit-clientd was restarted (try-restart) and cannot adopt its ssh: its tunnel reconnects.
    process.stderr.write(`# after the upgrade the tunnel carried a request again within ${Date.now() - upgraded} ms\n`);
  });

  test("petit service install writes, enables and starts a unit under systemd, and uninstall takes it away", async () => {
    await system.run(["systemctl", "disable", "--now", "petit.service"]);
    const installed = await petit(["service", "install"]);
    assert.match(installed, /enable --now petit\.service/);
    const unit = readFileSync(join(system.dir, "etc/systemd/system/petit.service"), "utf8");
    assert.match(unit, /^ExecStart=\/usr\/bin\/petit up --foreground$/m);
    assert.match(unit, /^Environment=PETIT_HOME=\/var\/lib\/petit$/m);
    assert.equal((await system.exec(["systemctl", "is-active", "petit.service"])).stdout.trim(), "active");
    await tunnelWorks();
    await petit(["service", "uninstall"]);
    assert.equal(existsSync(join(system.dir, "etc/systemd/system/petit.service")), false);
    // The package's own unit is back in charge.
    await system.run(["systemctl", "enable", "--now", "petit.service"]);
    await tunnelWorks();
  });

  test("apt-get remove stops the relay, its sshd and the client, and keeps the config and the state", async () => {
    await system.run(["rm", "-rf", "/etc/systemd/system/petit.service.d"]);
    await system.run(["apt-get", "remove", "-y", "petit"], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    assert.equal(existsSync(join(system.dir, "usr/bin/petit")), false);
    assert.doesNotMatch(await processes(), /petit|sshd_config|sshd: petit-tunnel/);
    assert.ok(existsSync(join(system.dir, "etc/petit/config.toml")), "remove keeps the config");
    assert.ok(existsSync(join(system.dir, "var/lib/petit/server/registry.json")), "remove keeps the registrations");
  });

  test("apt-get purge leaves no petit file, unit, account or process behind", async () => {
    await system.run(["apt-get", "purge", "-y", "petit"], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    await system.run(["rm", "-f", `/root/petit_${VERSION}_amd64.deb`, `/root/petit_${NEWER}_amd64.deb`]);
    const left = await system.run(["find", "/", "-xdev", "(", "-path", "/proc", "-o", "-path", "/sys", "-o", "-path", "/var/log/journal", ")", "-prune", "-o", "-name", "*petit*", "-print"]);
    assert.equal(left.trim(), "", "files named petit");
    assert.notEqual((await system.exec(["getent", "passwd", "petit-tunnel"])).exitCode, 0, "the tunnel account is gone");
    assert.equal((await system.exec(["systemctl", "list-unit-files", "petit*", "--no-legend"])).stdout.trim(), "");
    assert.doesNotMatch(await processes(), /petit|sshd: petit-tunnel/);
    // The administrator's things stay: OpenSSH, its config, the certificate.
    assert.ok(existsSync(join(system.dir, "etc/ssh/sshd_config")));
    assert.ok(existsSync(join(system.dir, TLS_CERT.slice(1))));
  });
});
