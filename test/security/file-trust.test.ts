/**
 * Root trusts only files that root (or the running user) alone can change.
 * Each test performs the attack of review finding 6: another account makes
 * config.toml (or the program it names) its own, so that petit run as root
 * would run that account's program. petit must refuse, name the file, its
 * owner and mode and the fix, and the program must never run (it would leave
 * a marker file).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "smol-toml";
import { killFromPidFile } from "../helpers/fixture.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort, freeRange } from "../helpers/ports.ts";

/** The account playing the attacker: it exists on every Debian system and owns nothing of petit's. */
const NOBODY = { name: "nobody", uid: 65534, gid: 65534 };

describe("petit refuses files another account could change (run as root)", { skip: process.getuid?.() !== 0 && "needs root" }, () => {
  let scratch: string;
  let marker: string;
  /** Every home a test made, so after() stops whatever a petit without the fix started there. */
  const homes: string[] = [];

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "petit-trust-"));
    // nobody must be able to reach its own files in here (the folder itself stays root's and 0755).
    chmodSync(scratch, 0o755);
    marker = join(scratch, "attacker-ran");
  });
  after(() => {
    for (const home of homes) {
      for (const file of ["server/serverd.pid", "server/sshd.pid", "client/clientd.pid", "client/ssh.pid"]) killFromPidFile(join(home, file));
    }
    for (const home of homes) rmSync(home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The attacker's program: it records that it ran, and as whom. */
  const evilScript = () => `#!/bin/sh\nid -u > "${marker}"\nexit 1\n`;

  /** Writes the attacker's program at `path` with `mode`, owned by `owner`. */
  function plant(path: string, mode: number, owner = { uid: 0, gid: 0 }): string {
    writeFileSync(path, evilScript(), { mode });
    chmodSync(path, mode);
    chownSync(path, owner.uid, owner.gid);
    return path;
  }

  /** A relay home made by `petit server init` on free ports, with its [server] section. */
  async function relayHome(parent?: string): Promise<{ dir: string; server: Record<string, unknown> }> {
    const dir = parent ? join(parent, "home") : makeHome("trust-relay").dir;
    homes.push(dir);
    const first = await freeRange(5);
    await petitOk(dir, [
      "server", "init", "--domain", "petit.test", "--listen", "127.0.0.1",
      "--http-port", String(await freePort()), "--api-port", String(await freePort()),
      "--control-port", String(await freePort()), "--ssh-port", String(await freePort()),
      "--port-range", `${first}-${first + 4}`,
    ]);
    const server = (parse(readFileSync(join(dir, "config.toml"), "utf8")) as { server: Record<string, unknown> }).server;
    return { dir, server };
  }

  /** Asserts `petit args` in `home` exits non-zero with every fragment in stderr, and the attacker's program did not run. */
  async function refused(home: string, args: string[], ...fragments: string[]): Promise<void> {
    rmSync(marker, { force: true });
    const result = await petit(home, args, { timeout: 30_000 });
    const stderr = String(result.stderr);
    assert.equal(existsSync(marker), false, `the attacker's program ran (as uid ${existsSync(marker) ? readFileSync(marker, "utf8").trim() : "?"})`);
    assert.notEqual(result.exitCode, 0, `petit ${args.join(" ")} exited 0\nstdout: ${result.stdout}\nstderr: ${stderr}`);
    assert.match(stderr, /Refusing to run as root: another account could change files petit trusts/);
    for (const fragment of fragments) assert.ok(stderr.includes(fragment), `stderr lacks ${fragment}:\n${stderr}`);
  }

  test("a PETIT_HOME writable by others: nobody replaces config.toml with one naming its sshd, petit server up refuses", async () => {
    const base = join(scratch, "world");
    mkdirSync(base, { mode: 0o755 });
    const { dir, server } = await relayHome(base);
    chmodSync(dir, 0o777);
    // The attack itself, as nobody: root's 0600 config.toml cannot be read, but in this folder it can be replaced.
    const evil = join(dir, "sshd");
    const forged = stringify({ server: { ...server, sshd_path: evil } });
    const attack = await execa("runuser", ["-u", NOBODY.name, "--", "sh", "-c",
      `rm -f config.toml && cat > config.toml && printf '%s' "$0" > sshd && chmod 755 sshd`, evilScript(),
    ], { cwd: dir, input: forged, reject: false });
    assert.equal(attack.exitCode, 0, attack.stderr);
    await refused(dir, ["server", "up"],
      `"${dir}" is writable by group and others (owner root, mode 0777); fix: chmod go-w "${dir}"`,
      `"${join(dir, "config.toml")}" is owned by nobody (uid 65534, mode 0`,
      `chown root "${join(dir, "config.toml")}"`);
  });

  test("a config.toml owned by another account, or writable by others, makes petit server up refuse", async () => {
    const { dir, server } = await relayHome();
    const config = join(dir, "config.toml");
    writeFileSync(config, stringify({ server: { ...server, sshd_path: plant(join(dir, "evil-sshd"), 0o755) } }), { mode: 0o600 });
    chownSync(config, NOBODY.uid, NOBODY.gid);
    await refused(dir, ["server", "up"], `"${config}" is owned by nobody (uid 65534, mode 0600); fix: check its content, then chown root "${config}"`);
    chownSync(config, 0, 0);
    chmodSync(config, 0o666);
    await refused(dir, ["server", "up"], `"${config}" is writable by group and others (owner root, mode 0666); fix: chmod go-w "${config}"`);
    chmodSync(config, 0o620);
    await refused(dir, ["server", "up"], `"${config}" is writable by group (owner root, mode 0620)`);
  });

  test("a server.sshd_path writable by others, or in a folder others can write, makes petit server up refuse", async () => {
    const { dir, server } = await relayHome();
    const config = join(dir, "config.toml");
    const writable = plant(join(scratch, "sshd-0777"), 0o777);
    writeFileSync(config, stringify({ server: { ...server, sshd_path: writable } }), { mode: 0o600 });
    await refused(dir, ["server", "up"], `"${writable}" is writable by group and others (owner root, mode 0777); fix: chmod go-w "${writable}"`);

    const openDir = join(scratch, "open-bin");
    mkdirSync(openDir);
    chmodSync(openDir, 0o777);
    const inOpenDir = plant(join(openDir, "sshd"), 0o755);
    writeFileSync(config, stringify({ server: { ...server, sshd_path: inOpenDir } }), { mode: 0o600 });
    await refused(dir, ["server", "up"], `"${openDir}" is writable by group and others (owner root, mode 0777); fix: chmod go-w "${openDir}"`);
  });

  test("a client whose config.toml another account owns: petit up, petit status and petit doctor refuse, ssh_path never runs", async () => {
    const home = makeHome("trust-client").dir;
    homes.push(home);
    const config = join(home, "config.toml");
    writeFileSync(config, stringify({
      client: {
        relay: "http://127.0.0.1:9", id: 1001, port: 11000, ssh_host: "127.0.0.1", ssh_port: 9, ssh_user: "petit",
        ssh_path: plant(join(home, "evil-ssh"), 0o755), control_port: await freePort(), up_timeout: 3,
      },
    }), { mode: 0o600 });
    chownSync(config, NOBODY.uid, NOBODY.gid);
    const fix = `chown root "${config}"`;
    await refused(home, ["up"], `"${config}" is owned by nobody (uid 65534, mode 0600)`, fix);
    await refused(home, ["status"], fix);
    const doctor = await petit(home, ["doctor", "--json"]);
    assert.equal(doctor.exitCode, 1);
    const rows = JSON.parse(String(doctor.stdout)) as { check: string; status: string; message: string; fix: string }[];
    assert.deepEqual(rows.map((r) => [r.check, r.status]), [["trust", "fail"]]);
    assert.ok(rows[0].fix.includes(fix), rows[0].fix);
    assert.equal(existsSync(marker), false, "petit doctor ran the attacker's ssh");
  });
});
