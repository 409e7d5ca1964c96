/**
 * The single executable (dist/petit-linux-<arch>, Node's SEA) on a machine
 * with no Node.js: run with a PATH whose node, tsx, deno and npm are
 * tripwires, it answers --version and status --json, runs a real relay and a
 * real client whose daemons are the executable itself, carries a request
 * through the tunnel, and writes systemd units that run the executable.
 * The other architecture's executable answers too, under qemu-user where
 * it is installed. Builds executables first when missing or stale (~30 s).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { commandLine, readPidFile } from "../../lib/proc/process.ts";
import { ensureExecutable, nodelessPath, type NodelessPath } from "../helpers/executable.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { makeHome, petit, petitOk, ROOT } from "../helpers/petit.ts";

const run = { runtime: "sea" as const };

/** The other architecture of the two petit builds for, and how qemu-user runs it: its emulator and the target's libraries. */
const FOREIGN = process.arch === "x64"
  ? { target: "linux-arm64", qemu: "qemu-aarch64", sysroot: "/usr/aarch64-linux-gnu", packages: "qemu-user libc6-arm64-cross libstdc++6-arm64-cross" }
  : { target: "linux-x64", qemu: "qemu-x86_64", sysroot: "/usr/x86_64-linux-gnu", packages: "qemu-user libc6-amd64-cross libstdc++6-amd64-cross" };

/** Why the foreign executable cannot be run here, or false when it can. */
async function noEmulator(): Promise<string | false> {
  const found = await execa(FOREIGN.qemu, ["--version"], { reject: false, stdin: "ignore" }).catch(() => undefined);
  if (found?.exitCode !== 0 || !existsSync(FOREIGN.sysroot)) return `${FOREIGN.qemu} or ${FOREIGN.sysroot} is missing (apt-get install ${FOREIGN.packages})`;
  return false;
}

describe("the single executable", () => {
  let executable: string;
  let nodeless: NodelessPath;
  let foreign: string | undefined;
  let foreignSkip: string | false;
  const testPath = process.env.PATH;

  before(async () => {
    // Built before PATH loses node: a first build installs the pinned node binaries with npm.
    executable = ensureExecutable();
    foreignSkip = await noEmulator();
    if (!foreignSkip) foreign = ensureExecutable(FOREIGN.target);
    nodeless = nodelessPath();
    // Everything this test starts, and all they start in turn, sees a PATH with no node on it.
    process.env.PATH = nodeless.path;
  });

  after(() => {
    process.env.PATH = testPath;
    nodeless?.remove();
  });

  test("petit --version and petit status --json work with no node on PATH", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal((await petitOk("/nonexistent", ["--version"], run)).trim(), version);
    const home = makeHome("sea-status");
    try {
      const status = await petit(home.dir, ["status", "--json"], run);
      assert.equal(status.exitCode, 3, String(status.stderr));
      assert.equal(JSON.parse(String(status.stdout)).state, "unconfigured");
    } finally {
      home.remove();
    }
    assert.deepEqual(nodeless.runs(), []);
  });

  test("a relay and a client run from the executable carry a request through the tunnel", async () => {
    const origin = await startOrigin("sea-origin");
    let relay: Relay | undefined;
    let client: Client | undefined;
    try {
      relay = await startRelay(run);
      client = await registerClient(relay, { name: "via-sea", target: `127.0.0.1:${origin.port}`, ...run });
      await client.up();

      // The daemons are the executable re-run by itself, with no script argument.
      for (const [pidFile, path] of [[join(relay.home, "server/serverd.pid"), ["server", "up"]], [join(client.home, "client/clientd.pid"), ["up"]]] as const) {
        const pid = readPidFile(pidFile);
        assert.ok(pid, `no live process in ${pidFile}`);
        assert.deepEqual(commandLine(pid), [executable, ...path, "--foreground"]);
      }

      const answer = await viaProxy(relay, `${client.id}.${DOMAIN}`, "/through");
      assert.equal(answer.status, 200);
      assert.equal(JSON.parse(answer.text).name, "sea-origin");

      const status = JSON.parse(await petitOk(client.home, ["status", "--json"], run)) as { state: string };
      assert.equal(status.state, "connected");

      // A unit runs the executable itself: no node, no script.
      for (const [args, path] of [[["service", "install", "--print"], "up"], [["service", "install", "--server", "--print"], "server up"]] as const) {
        const unit = await petitOk(path === "up" ? client.home : relay.home, [...args], run);
        assert.match(unit, new RegExp(`^ExecStart=${executable} ${path} --foreground$`, "m"));
      }
      assert.deepEqual(nodeless.runs(), []);
    } finally {
      await client?.stop();
      await relay?.stop();
      await origin.close();
    }
  });

  test(`the ${FOREIGN.target} executable answers --version and status --json (under qemu-user)`, async (t) => {
    if (foreignSkip || !foreign) return t.skip(foreignSkip || "not built");
    const home = makeHome("sea-foreign");
    try {
      const emulate = (args: string[]) => execa(FOREIGN.qemu, ["-L", FOREIGN.sysroot, foreign!, ...args], {
        env: { PETIT_HOME: home.dir, NO_COLOR: "1" }, reject: false, stdin: "ignore", timeout: 60_000,
      });
      const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
      assert.equal(String((await emulate(["--version"])).stdout).trim(), version);
      const status = await emulate(["status", "--json"]);
      assert.equal(status.exitCode, 3, String(status.stderr));
      assert.equal(JSON.parse(String(status.stdout)).state, "unconfigured");
    } finally {
      home.remove();
    }
  });
});
