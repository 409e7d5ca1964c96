/**
 * petit pause is a person's decision: it outlives petit-clientd (killed,
 * then started again by `petit up` as cron or systemd would) until `petit
 * resume`. Real relay, ssh and origin; the real CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readPidFile } from "../../lib/proc/process.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";

describe("a pause outlives the daemon", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  const host = () => `${client.id}.${DOMAIN}`;
  const state = async () => JSON.parse(String((await petit(client.home, ["status", "--json"])).stdout)).state as string;

  /** Kills petit-clientd with SIGKILL (no clean-up of its own) and waits until it is gone. */
  async function killDaemon(): Promise<void> {
    const pid = readPidFile(join(client.home, "client/clientd.pid"));
    assert.ok(pid, "petit-clientd runs");
    process.kill(pid, "SIGKILL");
    await waitFor(() => readPidFile(join(client.home, "client/clientd.pid")) !== pid, 5_000, "petit-clientd to die");
  }

  before(async () => {
    origin = await startOrigin("pause-origin");
    relay = await startRelay();
    client = await registerClient(relay, { target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("after petit pause and a kill -9 of petit-clientd, petit up starts it paused: exit 0, no ssh, the relay answers 502", async () => {
    await petitOk(client.home, ["pause"]);
    assert.equal((await viaProxy(relay, host())).status, 502);
    await killDaemon();
    const up = await petit(client.home, ["up"]);
    assert.equal(up.exitCode, 0, String(up.stderr));
    assert.match(String(up.stdout), /paused on purpose.*petit resume/);
    assert.equal(await state(), "paused");
    assert.equal(existsSync(join(client.home, "client/ssh.pid")), false, "no ssh runs");
    assert.equal((await viaProxy(relay, host())).status, 502);
    // cron's "petit up --quiet" a minute later changes nothing either.
    const again = await petit(client.home, ["up", "--quiet"]);
    assert.equal(again.exitCode, 0);
    assert.equal(await state(), "paused");
  });

  test("petit resume ends the pause for good: after another kill -9, petit up brings the tunnel up", async () => {
    await petitOk(client.home, ["resume"]);
    await waitFor(async () => (await viaProxy(relay, host())).status === 200, 15_000, "the proxy to answer 200 after resume");
    await killDaemon();
    await petitOk(client.home, ["up"]);
    assert.equal(await state(), "connected");
    assert.equal((await viaProxy(relay, host())).status, 200);
  });
});
