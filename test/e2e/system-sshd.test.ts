/**
 * System sshd mode end to end: a real sshd that petit did not start, with
 * its own config tree in a temporary folder (never /etc/ssh), which petit
 * configures through a drop-in, reloads, rolls back and uninstalls.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "smol-toml";
import { isAlive } from "../../lib/proc/process.ts";
import { listeningInodes, pidsHoldingSockets } from "../../lib/proc/sockets.ts";
import { descendantsOf } from "../../lib/proc/process.ts";
import { waitForPort } from "../../lib/proc/sockets.ts";
import { stopSshdTree } from "../../lib/server/sshd/managed-sshd.ts";
import { pidFrom, serverStatus, signal } from "../helpers/faults.ts";
import { DOMAIN, killFromPidFile, registerClient, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort, freeRange } from "../helpers/ports.ts";

const SSHD = "/usr/sbin/sshd";
const skip = process.getuid?.() !== 0
  ? "needs root: system sshd mode creates a tunnel account and runs sshd as root"
  : !existsSync(SSHD) ? `needs OpenSSH's server at ${SSHD}` : false;

/** Every file and folder below `root` (except `skipDirs`): path → mode and content hash. */
function snapshot(root: string, skipDirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skipDirs.includes(rel)) continue;
      const stat = lstatSync(path);
      const hash = stat.isFile() ? createHash("sha256").update(readFileSync(path)).digest("hex") : "dir";
      out[rel] = `${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid} ${hash}`;
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

function hasAccount(user: string): boolean {
  return readFileSync("/etc/passwd", "utf8").split("\n").some((line) => line.startsWith(`${user}:`));
}

/** `sshd -T` of the tree for a login of `user`: keyword → value. */
function effective(config: string, user: string): Record<string, string> {
  const text = execFileSync(SSHD, ["-T", "-f", config, "-C", `user=${user},host=localhost,addr=127.0.0.1`], { encoding: "utf8" });
  return Object.fromEntries(text.trim().split("\n").map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
}

describe("system sshd mode", { skip, timeout: 240_000 }, () => {
  const user = `petit-st-${randomBytes(3).toString("hex")}`;
  let tmp: string;
  let etc: string;
  let mainConfig: string;
  let dropIn: string;
  let wrapper: string;
  let sshdPid: number | undefined;
  let sshPort: number;
  let initial: Record<string, string>;
  let home: ReturnType<typeof makeHome>;
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client | undefined;
  let second: Client | undefined;
  let initArgs: string[];
  const frozen: number[] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "petit-system-sshd-"));
    etc = join(tmp, "etc/ssh");
    mkdirSync(join(etc, "sshd_config.d"), { recursive: true, mode: 0o755 });
    mkdirSync(join(tmp, "run"), { mode: 0o755 });
    mkdirSync(join(tmp, "log"), { mode: 0o700 });
    mkdirSync(join(tmp, "bin"), { mode: 0o755 });
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege-separation folder, needed as root
    for (const type of ["ecdsa", "ed25519"]) {
      execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `test-${type}`, "-f", join(etc, `ssh_host_${type}_key`)]);
    }
    // An admin's own drop-in, which petit must leave alone.
    writeFileSync(join(etc, "sshd_config.d/10-admin.conf"), "# the admin's own\nLoginGraceTime 60\n", { mode: 0o644 });
    sshPort = await freePort();
    mainConfig = join(etc, "sshd_config");
    dropIn = join(etc, "sshd_config.d/50-petit.conf");
    // Global settings more permissive than petit's Match block: the block must win for the tunnel account only.
    writeFileSync(mainConfig, [
      "# A test tree standing in for /etc/ssh",
      `Include ${etc}/sshd_config.d/*.conf`,
      `Port ${sshPort}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${etc}/ssh_host_ecdsa_key`,
      `HostKey ${etc}/ssh_host_ed25519_key`,
      `PidFile ${tmp}/run/sshd.pid`,
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AllowTcpForwarding yes",
      "X11Forwarding yes",
      "PrintMotd no",
      "",
    ].join("\n"), { mode: 0o644 });
    // An sshd whose -t refuses everything, for the rollback test; every other use goes to the real one.
    wrapper = join(tmp, "bin/sshd-refusing");
    writeFileSync(wrapper, `#!/bin/sh\nfor a in "$@"; do [ "$a" = -t ] && { echo "test wrapper: refusing the config on purpose" >&2; exit 1; }; done\nexec ${SSHD} "$@"\n`);
    chmodSync(wrapper, 0o755);

    const logFd = openSync(join(tmp, "log/sshd.log"), "a", 0o600);
    const child = spawn(SSHD, ["-D", "-e", "-f", mainConfig], { stdio: ["ignore", "ignore", logFd], detached: true });
    closeSync(logFd);
    child.unref();
    sshdPid = child.pid;
    await waitForPort({ name: "sshd", host: "127.0.0.1", port: sshPort, timeoutMs: 5_000, alive: () => isAlive(sshdPid!) });
    initial = snapshot(tmp, ["log"]);

    origin = await startOrigin("system-origin");
    home = makeHome("sysrelay");
    const [httpPort, apiPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    const rangeFirst = await freeRange(10);
    writeFileSync(join(home.dir, "config.toml"), [
      "[server]", `domain = "${DOMAIN}"`, `tunnel_user = "${user}"`,
      `system_sshd_config = "${mainConfig}"`, `system_dropin_dir = "${etc}/sshd_config.d"`,
      `system_sshd_pid = "${tmp}/run/sshd.pid"`, `system_sshd_log = "${tmp}/log/sshd.log"`, "",
    ].join("\n"), { mode: 0o600 });
    initArgs = [
      "server", "init", "--ssh-mode", "system", "--domain", DOMAIN, "--listen", "127.0.0.1", "--http-port", String(httpPort),
      "--api-port", String(apiPort), "--control-port", String(controlPort), "--port-range", `${rangeFirst}-${rangeFirst + 9}`,
    ];
    await petitOk(home.dir, initArgs);
    await petitOk(home.dir, ["server", "up"]);
    relay = {
      home: home.dir, httpPort, apiPort, controlPort, sshPort, rangeFirst, apiUrl: `http://127.0.0.1:${apiPort}`,
      token: (await petitOk(home.dir, ["server", "token"])).trim(),
      stop: async () => {},
    };
  });

  after(async () => {
    for (const pid of frozen) signal(pid, "SIGKILL");
    await client?.stop();
    await second?.stop();
    if (home) {
      await petit(home.dir, ["server", "down"]);
      killFromPidFile(join(home.dir, "server/serverd.pid"));
      home.remove();
    }
    if (sshdPid) await stopSshdTree(sshdPid);
    if (hasAccount(user)) execFileSync("userdel", [user]);
    await origin?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("init adds only the drop-in, confines the tunnel account alone, and tells clients the system sshd's port", () => {
    const now = snapshot(tmp, ["log"]);
    const added = Object.keys(now).filter((path) => !(path in initial));
    assert.deepEqual(added, ["etc/ssh/sshd_config.d/50-petit.conf"]);
    for (const path of Object.keys(initial)) assert.equal(now[path], initial[path], path);
    assert.match(readFileSync(dropIn, "utf8"), new RegExp(`^# Added by petit[^]*\\nMatch User ${user}\\n`));
    const tunnel = effective(mainConfig, user);
    assert.equal(tunnel.allowtcpforwarding, "remote");
    assert.equal(tunnel.x11forwarding, "no");
    assert.equal(tunnel.forcecommand, "echo petit-tunnel-ready; exec cat >/dev/null");
    const other = effective(mainConfig, "root");
    assert.equal(other.allowtcpforwarding, "yes");
    assert.equal(other.x11forwarding, "yes");
    assert.equal(other.forcecommand, "none");
    const config = parse(readFileSync(join(home.dir, "config.toml"), "utf8")).server as Record<string, unknown>;
    assert.equal(config.ssh_mode, "system");
    assert.equal(config.ssh_port, sshPort);
    assert.equal(isAlive(sshdPid!), true, "sshd was reloaded, not replaced");
    assert.equal(hasAccount(user), true);
  });

  test("petit-serverd starts no sshd of its own and reports the system sshd's listener", async () => {
    assert.equal((await serverStatus(relay))?.sshd_pid, sshdPid);
    assert.equal(existsSync(join(home.dir, "server/sshd_config")), false);
    assert.equal(existsSync(join(home.dir, "server/sshd.pid")), false);
  });

  test("clients register and tunnel through the system sshd", async () => {
    client = await registerClient(relay, { name: "sys", target: `127.0.0.1:${origin.port}` });
    second = await registerClient(relay, { name: "two", target: `127.0.0.1:${origin.port}` });
    await Promise.all([client.up(), second.up()]);
    for (const c of [client, second]) {
      const res = await viaProxy(relay, `${c.name}.${DOMAIN}`, "/x");
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).name, "system-origin");
      const holders = pidsHoldingSockets(listeningInodes(c.port));
      assert.equal(holders.length, 1);
      assert.ok(descendantsOf(sshdPid!).includes(holders[0]), "the tunnel's session runs under the system sshd");
    }
  });

  test("petit doctor checks the system sshd: its drop-in applied, its MaxStartups, the tunnel account; a missing Include fails with the line to add", async () => {
    const doctor = async () => {
      const result = await petit(home.dir, ["doctor", "--json"]);
      const rows = JSON.parse(String(result.stdout)) as { check: string; status: string; message: string; fix: string | null }[];
      const row = (check: string) => rows.find((r) => r.check === check)!;
      return { exitCode: result.exitCode, rows, row };
    };
    const mainText = readFileSync(mainConfig, "utf8");
    try {
      const first = await doctor();
      assert.deepEqual(first.rows.filter((r) => r.status === "fail"), []);
      assert.equal(first.exitCode, 0);
      // The test tree keeps sshd's default MaxStartups: applied, but a storm would be refused.
      assert.equal(first.row("sshd-config").status, "warn");
      assert.match(first.row("sshd-config").message, new RegExp(`pid ${sshdPid}\\) applies petit's drop-in, but keeps MaxStartups 10:30:100`));
      assert.match(first.row("sshd-config").fix!, /MaxStartups 1000:30:2000/);
      assert.equal(first.row("tunnel-account").status, "ok");
      assert.match(first.row("tunnel-account").message, new RegExp(`"${user}"`));
      assert.match(first.row("port-ssh").message, new RegExp(`held by petit \\(sshd pid ${sshdPid}\\)`));
      assert.equal(first.row("port-range").status, "ok");

      writeFileSync(mainConfig, `${mainText}MaxStartups 1000:30:2000\n`);
      const tuned = await doctor();
      assert.equal(tuned.row("sshd-config").status, "ok", tuned.row("sshd-config").message);
      assert.match(tuned.row("sshd-config").message, /includes ".*50-petit\.conf" and applies all of it/);

      writeFileSync(mainConfig, mainText.replace(/^Include .*\n/m, ""));
      const broken = await doctor();
      assert.equal(broken.exitCode, 1);
      assert.equal(broken.row("sshd-config").status, "fail");
      assert.match(broken.row("sshd-config").message, /does not include petit's drop-in/);
      assert.ok(broken.row("sshd-config").fix!.includes(`add "Include ${etc}/sshd_config.d/*.conf" near the top of "${mainConfig}"`), broken.row("sshd-config").fix!);
    } finally {
      writeFileSync(mainConfig, mainText);
    }
  });

  test("a drop-in sshd -t refuses is rolled back, and sshd keeps running with the old one", async () => {
    const previous = readFileSync(dropIn, "utf8") + "# a line the rollback must keep\n";
    writeFileSync(dropIn, previous);
    const configBefore = readFileSync(join(home.dir, "config.toml"), "utf8");
    const result = await petit(home.dir, [...initArgs, "--sshd-path", wrapper]);
    assert.equal(result.exitCode, 1, String(result.stdout));
    assert.match(String(result.stderr), /refusing the config on purpose/);
    assert.match(String(result.stderr), /restored its drop-in's previous content/);
    assert.doesNotMatch(String(result.stderr), /at .*\.ts:\d+/, "a refused config is the user's to fix: no stack trace");
    assert.equal(readFileSync(dropIn, "utf8"), previous);
    assert.equal(readFileSync(join(home.dir, "config.toml"), "utf8"), configBefore, "config.toml is left as it was");
    assert.equal(isAlive(sshdPid!), true);
    assert.equal((await viaProxy(relay, `sys.${DOMAIN}`)).status, 200);
  });

  test("petit server restart keeps the tunnels and leaves the system sshd alone", async () => {
    const holders = pidsHoldingSockets(listeningInodes(second!.port));
    const before = pidFrom(join(home.dir, "server/serverd.pid"));
    await petitOk(home.dir, ["server", "restart", "--quiet"]);
    assert.notEqual(pidFrom(join(home.dir, "server/serverd.pid")), before);
    assert.deepEqual(pidsHoldingSockets(listeningInodes(second!.port)), holders, "the same session still holds the port");
    assert.equal((await serverStatus(relay))?.sshd_pid, sshdPid);
    assert.equal((await viaProxy(relay, `two.${DOMAIN}`)).status, 200);
  });

  test("a port held by a frozen session is freed at its owner's signed request, under the system sshd's listener", async () => {
    const stuck = pidFrom(join(client!.home, "client/ssh.pid"))!;
    frozen.push(stuck);
    signal(stuck, "SIGSTOP");
    signal(pidFrom(join(client!.home, "client/clientd.pid")), "SIGKILL");
    rmSync(join(client!.home, "client/ssh.pid"), { force: true });
    const up = await petit(client!.home, ["up"], { timeout: 30_000 });
    assert.equal(up.exitCode, 0, `${up.stdout}\n${up.stderr}`);
    const log = readFileSync(join(home.dir, "server/serverd.log"), "utf8");
    assert.match(log, /stale port: client \d+ reconnected while its old session/);
    assert.equal((await viaProxy(relay, `sys.${DOMAIN}`)).status, 200);
    signal(stuck, "SIGKILL");
  });

  test("revoke ends the client's session under the system sshd at once", async () => {
    const out = await petitOk(home.dir, ["server", "revoke", "sys"]);
    assert.match(out, /1001/);
    await waitFor(() => listeningInodes(client!.port).size === 0, 2_000, "the revoked client's port to close");
    assert.notEqual((await viaProxy(relay, `sys.${DOMAIN}`)).status, 200);
    assert.equal(isAlive(sshdPid!), true);
    assert.equal((await viaProxy(relay, `two.${DOMAIN}`)).status, 200, "the other client is untouched");
  });

  test("with petit-serverd killed, revoke still ends the session under the system sshd", async () => {
    signal(pidFrom(join(home.dir, "server/serverd.pid")), "SIGKILL");
    assert.equal(listeningInodes(second!.port).size, 1, "the tunnel outlives petit-serverd: sshd is not petit's");
    const result = JSON.parse(await petitOk(home.dir, ["server", "revoke", "two", "--json"]));
    assert.equal(result.sessions_ended, 1);
    await waitFor(() => listeningInodes(second!.port).size === 0, 2_000, "the revoked client's port to close");
  });

  test("init and up refuse a main config that does not Include the drop-in, with the line to add", async () => {
    await petitOk(home.dir, ["server", "down"]);
    const original = readFileSync(mainConfig, "utf8");
    const dropInBefore = readFileSync(dropIn, "utf8");
    const line = `Include ${etc}/sshd_config.d/*.conf`;
    writeFileSync(mainConfig, original.replace(`${line}\n`, ""));
    try {
      const init = await petit(home.dir, initArgs);
      assert.equal(init.exitCode, 1);
      assert.match(String(init.stderr), /does not include petit's drop-in/);
      assert.ok(String(init.stderr).includes(`  ${line}`), String(init.stderr));
      const up = await petit(home.dir, ["server", "up"]);
      assert.equal(up.exitCode, 1, `${up.stdout}${up.stderr}\n${readFileSync(join(home.dir, "server/serverd.log"), "utf8").slice(-3000)}`);
      assert.ok(`${up.stdout}${up.stderr}`.includes(line), `${up.stdout}${up.stderr}`);
      assert.equal(readFileSync(dropIn, "utf8"), dropInBefore, "nothing was written");
    } finally {
      writeFileSync(mainConfig, original);
    }
  });

  test("uninstall-sshd leaves the tree byte for byte as it was; the account goes only with --remove-user", async () => {
    for (const c of [client, second]) await c?.stop();
    client = second = undefined;
    const out = await petitOk(home.dir, ["server", "uninstall-sshd"]);
    assert.match(out, /removed ".*50-petit\.conf"/);
    assert.deepEqual(snapshot(tmp, ["log"]), initial);
    assert.equal(existsSync(join(home.dir, "server/authorized_keys")), false);
    assert.equal(hasAccount(user), true);
    assert.equal(isAlive(sshdPid!), true);
    await waitFor(() => descendantsOf(sshdPid!).length === 0, 3_000, "no session left under sshd");
    await petitOk(home.dir, ["server", "uninstall-sshd", "--remove-user"]);
    assert.equal(hasAccount(user), false);
    assert.deepEqual(snapshot(tmp, ["log"]), initial);
  });
});
