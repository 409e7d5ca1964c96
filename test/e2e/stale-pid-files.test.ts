/**
 * Pid files left behind (a crash, a power cut, a reboot) may name a process
 * that later got the same PID. petit down, petit server down and petit server
 * restart must never signal such a process: they check that the PID is
 * petit's before they send anything.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "../../lib/proc/process.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";

describe("stale pid files naming somebody else's process", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let bystander: ChildProcess;

  before(async () => {
    origin = await startOrigin("stale-pid-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "stale", target: `127.0.0.1:${origin.port}` });
    // An unrelated process, standing in for whatever got the daemon's old PID after a reboot.
    bystander = spawn("sleep", ["300"], { stdio: "ignore" });
  });

  after(async () => {
    bystander?.kill("SIGKILL");
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("petit down leaves the process alone, says nothing runs, and removes the stale files", async () => {
    for (const name of ["clientd.pid", "ssh.pid"]) writeFileSync(join(client.home, "client", name), `${bystander.pid}\n`);
    const down = await petit(client.home, ["down"]);
    assert.equal(down.exitCode, 0);
    assert.match(String(down.stdout), /not running/);
    assert.ok(isAlive(bystander.pid!), "the unrelated process was signalled");
    for (const name of ["clientd.pid", "ssh.pid"]) assert.equal(existsSync(join(client.home, "client", name)), false, name);
  });

  test("petit server down and petit server restart leave the process alone; restart then starts the relay", async () => {
    await petitOk(relay.home, ["server", "down"]);
    const pidFile = join(relay.home, "server/serverd.pid");
    writeFileSync(pidFile, `${bystander.pid}\n`);
    const down = await petit(relay.home, ["server", "down"]);
    assert.equal(down.exitCode, 0);
    assert.match(String(down.stdout), /not running/);
    assert.ok(isAlive(bystander.pid!), "server down signalled the unrelated process");

    writeFileSync(pidFile, `${bystander.pid}\n`);
    const restart = await petit(relay.home, ["server", "restart"]);
    assert.equal(restart.exitCode, 0, String(restart.stderr));
    assert.ok(isAlive(bystander.pid!), "server restart signalled the unrelated process (SIGUSR2 would have ended it)");
    await client.up();
    assert.equal((await viaProxy(relay, `stale.${DOMAIN}`)).status, 200);
  });
});
