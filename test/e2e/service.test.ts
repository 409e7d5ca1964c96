/**
 * Running petit as a service: the systemd units `petit service install`
 * writes (checked with systemd-analyze where it exists), installing and
 * uninstalling into a scratch unit folder, and `petit up --quiet` from cron.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPidFile } from "../../lib/proc/process.ts";
import { serviceCommand } from "../../lib/service/exec.ts";
import { systemdRunning } from "../../lib/service/systemd.ts";
import { renderUnit, type UnitOptions } from "../../lib/service/unit.ts";
import { registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk, ROOT } from "../helpers/petit.ts";

/** Why the systemd-analyze test cannot run here, or false when it can. */
const noAnalyze = (() => {
  const probe = execa("systemd-analyze", ["--version"], { reject: false, stdin: "ignore" });
  return probe.then((r) => (r.exitCode === 0 ? false : "systemd-analyze is not installed (apt-get install systemd provides it)"));
})();

/** The unit's `Key=value` lines for `key`. */
function values(unit: string, key: string): string[] {
  return unit.split("\n").filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
}

describe("petit as a service", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let scratch: string;
  const bundle = `${process.execPath} ${join(ROOT, "dist/petit.mjs")}`;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "petit-service-"));
    origin = await startOrigin("service-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "service", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("service install --print shows the client's unit and writes nothing", async () => {
    const unit = await petitOk(client.home, ["service", "install", "--print", "--unit-dir", join(scratch, "never")]);
    assert.deepEqual(values(unit, "ExecStart"), [`${bundle} up --foreground`]);
    assert.deepEqual(values(unit, "Environment"), [`PETIT_HOME=${client.home}`]);
    assert.deepEqual(values(unit, "Restart"), ["always"]);
    assert.deepEqual(values(unit, "KillMode"), ["mixed"]);
    assert.deepEqual(values(unit, "ProtectSystem"), ["strict"]);
    assert.deepEqual(values(unit, "ReadWritePaths"), [client.home]);
    // The test homes live under /root or /home: hiding them would hide PETIT_HOME.
    assert.deepEqual(values(unit, "ProtectHome"), ["read-only"]);
    for (const key of ["NoNewPrivileges", "PrivateTmp", "PrivateDevices"]) assert.deepEqual(values(unit, key), ["yes"], key);
    assert.deepEqual(values(unit, "WantedBy"), ["multi-user.target"]);
    assert.equal(values(unit, "MemoryDenyWriteExecute").length, 0);
    assert.equal(existsSync(join(scratch, "never")), false);
  });

  test("service install --server --print shows the relay's lighter unit, which never has systemd kill sshd", async () => {
    const unit = await petitOk(relay.home, ["service", "install", "--server", "--print"]);
    assert.deepEqual(values(unit, "ExecStart"), [`${bundle} server up --foreground`]);
    assert.deepEqual(values(unit, "KillMode"), ["process"]);
    assert.deepEqual(values(unit, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert.deepEqual(values(unit, "ProtectSystem"), ["yes"]);
    assert.deepEqual(values(unit, "ReadWritePaths"), [relay.home]);
    assert.equal(values(unit, "PrivateTmp").length, 0);
    assert.equal(values(unit, "PrivateDevices").length, 0);
    assert.match(unit, /^# With control-group or mixed, systemd would kill sshd/m);
  });

  test("service install --user --print writes a user unit with NoNewPrivileges as its only sandboxing", async () => {
    const unit = await petitOk(client.home, ["service", "install", "--user", "--print"]);
    assert.deepEqual(values(unit, "WantedBy"), ["default.target"]);
    assert.deepEqual(values(unit, "NoNewPrivileges"), ["yes"]);
    for (const key of ["ProtectSystem", "ProtectHome", "PrivateTmp", "ReadWritePaths", "Wants", "After"]) assert.equal(values(unit, key).length, 0, key);
  });

  test("service install passes --config on as an absolute path", async () => {
    const unit = await petitOk(client.home, ["service", "install", "--print", "--config", join(client.home, "config.toml")]);
    assert.deepEqual(values(unit, "ExecStart"), [`${bundle} up --foreground --config ${join(client.home, "config.toml")}`]);
  });

  test("service install refuses a role that is not set up in this PETIT_HOME", async () => {
    const result = await petit(client.home, ["service", "install", "--server", "--print"]);
    assert.equal(result.exitCode, 1);
    assert.match(String(result.stderr), /No \[server\] section in ".*config\.toml": run "petit server init --domain DOMAIN" first/);
  });

  test("renderUnit() quotes values with spaces, and escapes % and $ for systemd", () => {
    const unit = renderUnit({
      role: "client", scope: "system", home: "/srv/my petit%1",
      command: ["/usr/bin/node", "/opt/pe tit/$HOME/petit.mjs", "up", "--foreground"],
    });
    assert.deepEqual(values(unit, "Environment"), ['"PETIT_HOME=/srv/my petit%%1"']);
    assert.deepEqual(values(unit, "ReadWritePaths"), ['"/srv/my petit%%1"']);
    assert.deepEqual(values(unit, "ExecStart"), ['/usr/bin/node "/opt/pe tit/$$HOME/petit.mjs" up --foreground']);
    // Neither PETIT_HOME nor petit is in a home folder: the home folders can be hidden.
    assert.deepEqual(values(unit, "ProtectHome"), ["yes"]);
  });

  test("renderUnit() refuses a path with a line break, and a program that is not absolute", () => {
    const base: UnitOptions = { role: "client", scope: "system", home: "/srv/petit", command: ["/usr/bin/node", "/opt/petit.mjs"] };
    assert.throws(() => renderUnit({ ...base, home: "/srv/pe\ntit" }), /Cannot write "\/srv\/pe\\ntit" into a systemd unit: it holds a control character/);
    assert.throws(() => renderUnit({ ...base, command: ["node", "petit.mjs"] }), /The unit's program must be an absolute path, got "node"/);
  });

  test("serviceCommand() starts the unit in the current folder only when node loads a bare module (--import tsx)", () => {
    const fromSource = serviceCommand(["up"], { program: "/usr/bin/node", args: ["--import", "tsx", "/src/petit/cli.ts"] }, "/src/petit");
    assert.deepEqual(fromSource, { argv: ["/usr/bin/node", "--import", "tsx", "/src/petit/cli.ts", "up"], workingDirectory: "/src/petit" });
    const bundled = serviceCommand(["up"], { program: "/usr/bin/node", args: ["/opt/petit/dist/petit.mjs"] }, "/anywhere");
    assert.deepEqual(bundled, { argv: ["/usr/bin/node", "/opt/petit/dist/petit.mjs", "up"] });
    assert.equal(serviceCommand([], { program: "/n", args: ["--import=file:///x/tsx.mjs", "/a.ts"] }, "/c").workingDirectory, undefined);
  });

  test("systemd-analyze verify accepts the client's and the relay's units, system and user", async (t) => {
    const skip = await noAnalyze;
    if (skip) return t.skip(skip);
    const runtime = join(scratch, "runtime");
    mkdirSync(runtime, { mode: 0o700 });
    const units: Array<{ scope: "system" | "user"; name: string; text: string }> = [];
    for (const scope of ["system", "user"] as const) {
      const flag = scope === "user" ? ["--user"] : [];
      units.push({ scope, name: "petit.service", text: await petitOk(client.home, ["service", "install", "--print", ...flag]) });
      units.push({ scope, name: "petit-server.service", text: await petitOk(relay.home, ["service", "install", "--server", "--print", ...flag]) });
    }
    // Quoting and escaping, and the WorkingDirectory of a unit running petit from its sources.
    const odd = join(scratch, "my petit%1");
    mkdirSync(odd);
    units.push({ scope: "system", name: "petit.service", text: renderUnit({
      role: "client", scope: "system", home: odd, workingDirectory: odd,
      command: [process.execPath, "--import", "tsx", join(odd, "$HOME", "cli.ts"), "up", "--foreground"],
    }) });
    for (const [i, { scope, name, text }] of units.entries()) {
      const dir = join(scratch, `verify-${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, name), text.endsWith("\n") ? text : `${text}\n`);
      // A user manager needs a runtime folder; verify works without systemd as PID 1 once it has one.
      const result = await execa("systemd-analyze", ["verify", "--man=no", ...(scope === "user" ? ["--user"] : []), join(dir, name)], {
        reject: false, stdin: "ignore", env: { XDG_RUNTIME_DIR: runtime },
      });
      // verify exits 0 despite warnings about unknown keys or bad values: any line about our unit fails the test.
      const complaints = String(result.stderr).split("\n").filter((line) => line.includes(name));
      assert.equal(result.exitCode, 0, `${i}: ${scope} ${name}: ${result.stderr}`);
      assert.deepEqual(complaints, [], `${i}: ${scope} ${name}`);
    }
  });

  test("service install writes the unit into the unit folder and says so; again, it is up to date", async () => {
    const dir = join(scratch, "units");
    const printed = await petitOk(relay.home, ["service", "install", "--server", "--print"]);
    const first = await petitOk(relay.home, ["service", "install", "--server", "--unit-dir", dir]);
    const path = join(dir, "petit-server.service");
    assert.match(first, new RegExp(`^Wrote ${path}\n`));
    assert.match(first, /nothing enabled/);
    assert.equal(readFileSync(path, "utf8"), `${printed}\n`);
    assert.equal(statSync(path).mode & 0o777, 0o644);
    const again = await petitOk(relay.home, ["service", "install", "--server", "--unit-dir", dir]);
    assert.match(again, new RegExp(`^${path} is up to date\n`));
  });

  test("service uninstall removes the unit, and says so when there is none", async () => {
    const dir = join(scratch, "units-uninstall");
    await petitOk(client.home, ["service", "install", "--unit-dir", dir]);
    const removed = await petitOk(client.home, ["service", "uninstall", "--unit-dir", dir]);
    assert.equal(removed.trim(), `Removed ${join(dir, "petit.service")}`);
    assert.equal(existsSync(join(dir, "petit.service")), false);
    const none = await petitOk(client.home, ["service", "uninstall", "--unit-dir", dir]);
    assert.match(none, /No petit\.service in .*: nothing to uninstall/);
  });

  test("service install where systemd does not run writes the unit and says how to start petit", async (t) => {
    // With systemd running this would enable and start a real user unit.
    if (systemdRunning()) return t.skip("systemd runs on this machine");
    const config = join(scratch, "xdg");
    const result = await petit(client.home, ["service", "install", "--user"], { env: { XDG_CONFIG_HOME: config } });
    assert.equal(result.exitCode, 0, String(result.stderr));
    const path = join(config, "systemd/user/petit.service");
    assert.ok(existsSync(path));
    assert.match(String(result.stdout), /systemd is not running on this machine \(PID 1 is ".+"\), so petit\.service was not enabled or started\./);
    assert.match(String(result.stdout), /systemctl --user daemon-reload && systemctl --user enable --now petit\.service/);
    assert.match(String(result.stdout), /\* \* \* \* \* petit up --quiet/);
    const removed = await petit(client.home, ["service", "uninstall", "--user"], { env: { XDG_CONFIG_HOME: config } });
    assert.equal(removed.exitCode, 0);
    assert.equal(existsSync(path), false);
  });

  test("petit up --quiet from cron prints nothing and exits 0, twice, while the tunnel is up", async () => {
    const pid = readPidFile(join(client.home, "client/clientd.pid"));
    for (let i = 0; i < 2; i++) {
      const result = await petit(client.home, ["up", "--quiet"]);
      assert.equal(result.exitCode, 0, String(result.stderr));
      assert.equal(result.stdout, "");
      assert.equal(result.stderr, "");
    }
    assert.equal(readPidFile(join(client.home, "client/clientd.pid")), pid, "the running daemon was left alone");
  });

  test("petit up --quiet from cron starts the daemon when it is down, printing nothing", async () => {
    await client.down();
    const result = await petit(client.home, ["up", "--quiet"]);
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.equal(result.stdout, "");
    assert.equal(result.stderr, "");
    assert.ok(readPidFile(join(client.home, "client/clientd.pid")));
    assert.equal((await petit(client.home, ["status"])).exitCode, 0);
  });
});
