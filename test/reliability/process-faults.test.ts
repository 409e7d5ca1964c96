/**
 * Process faults on a live relay: each test kills a process a tunnel depends
 * on, measures how long until the proxy serves again, prints the figures as a
 * `RELIABILITY {…}` line and asserts a bound.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { commandLine, isAlive } from "../../lib/proc/process.ts";
import {
  clientStatus, killTree, measureTunnelFault, pidFrom, pollUntilServing, portHolders, probeGet,
  recordGets, report, serverStatus, signal, sshProcessesFor, timeUntil,
} from "../helpers/faults.ts";
import { registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";

describe("process faults", () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let relay: Relay;
  let alpha: Client;
  let beta: Client;
  /** ssh processes a test froze (SIGSTOP): only SIGKILL ends them. */
  const frozen: number[] = [];

  before(async () => {
    origin = await startOrigin("faults-origin");
    relay = await startRelay();
    alpha = await registerClient(relay, { name: "alpha", target: `127.0.0.1:${origin.port}` });
    beta = await registerClient(relay, { name: "beta", target: `127.0.0.1:${origin.port}` });
    await alpha.up();
    await beta.up();
  });

  after(async () => {
    for (const pid of frozen) signal(pid, "SIGKILL");
    for (const client of [alpha, beta]) {
      if (!client) continue;
      const key = join(client.home, "client/id_ed25519");
      await client.stop().catch(() => undefined);
      for (const pid of sshProcessesFor(key)) signal(pid, "SIGKILL");
    }
    await relay?.stop().catch(() => undefined);
    await origin?.close();
  });

  const file = (client: Client | Relay, name: string) => join(client.home, name);

  /** Restarts a client's daemon so its backoff starts from zero: figures do not depend on test order. */
  async function fresh(client: Client): Promise<void> {
    await client.down();
    await client.up();
  }

  test("the tunnel serves again within 5 s after the client's ssh is killed", { timeout: 60_000 }, async () => {
    await fresh(alpha);
    const ssh = pidFrom(file(alpha, "client/ssh.pid"))!;
    const [fig] = await measureTunnelFault(relay, [alpha], () => signal(ssh, "SIGKILL"), 20_000);
    report({ fault: "client ssh killed", detect_ms: fig.detect_ms, restore_ms: fig.restore_ms, failed_requests: fig.failed_requests });
    assert.ok(fig.restore_ms !== null && fig.restore_ms <= 5_000, `restored after ${fig.restore_ms} ms (last failure ${fig.last_failure})`);
  });

  test("the tunnel serves again within 5 s after the client's session on the relay is killed", { timeout: 60_000 }, async () => {
    await fresh(alpha);
    const holders = portHolders(alpha.port);
    assert.equal(holders.length, 1, `processes holding port ${alpha.port}: ${holders}`);
    assert.match(commandLine(holders[0])?.[0] ?? "", /^sshd/);
    const [fig] = await measureTunnelFault(relay, [alpha], () => signal(holders[0], "SIGKILL"), 20_000);
    report({ fault: "relay session killed", detect_ms: fig.detect_ms, restore_ms: fig.restore_ms, failed_requests: fig.failed_requests });
    assert.ok(fig.restore_ms !== null && fig.restore_ms <= 5_000, `restored after ${fig.restore_ms} ms (last failure ${fig.last_failure})`);
  });

  test("every tunnel serves again within 10 s after the relay's sshd and its sessions are killed", { timeout: 60_000 }, async () => {
    await fresh(alpha);
    const sshd = pidFrom(file(relay, "server/sshd.pid"))!;
    let sshdBack: Promise<number | null> = Promise.resolve(null);
    const figs = await measureTunnelFault(relay, [alpha, beta], () => {
      const since = Date.now();
      killTree(sshd);
      sshdBack = timeUntil(async () => ![undefined, sshd].includes((await serverStatus(relay))?.sshd_pid), since, 20_000);
    }, 20_000);
    const worst = (key: "detect_ms" | "restore_ms") => figs.some((f) => f[key] === null) ? null : Math.max(...figs.map((f) => f[key]!));
    report({
      fault: "relay sshd killed", sshd_restart_ms: await sshdBack, clients: figs.length,
      detect_ms: worst("detect_ms"), restore_ms: worst("restore_ms"), failed_requests: figs.reduce((n, f) => n + f.failed_requests, 0),
    });
    for (const [i, fig] of figs.entries()) {
      assert.ok(fig.restore_ms !== null && fig.restore_ms <= 10_000, `client ${i}: restored after ${fig.restore_ms} ms (last failure ${fig.last_failure})`);
    }
  });

  test("killing petit-serverd and starting it again leaves every tunnel connected and every registration in place", { timeout: 60_000 }, async () => {
    const clients = [alpha, beta];
    const before = await Promise.all(clients.map(clientStatus));
    const listed = await registrations(relay);
    const sshd = pidFrom(file(relay, "server/sshd.pid"));
    const serverd = pidFrom(file(relay, "server/serverd.pid"))!;
    signal(serverd, "SIGKILL");
    assert.notEqual(await timeUntil(async () => (await serverStatus(relay)) === undefined, Date.now(), 5_000), null);
    const upStart = Date.now();
    await petitOk(relay.home, ["server", "up"]);
    const upMs = Date.now() - upStart;
    const first = await Promise.all(clients.map((c) => probeGet(relay, c, 5_000)));
    const afterward = await Promise.all(clients.map(clientStatus));
    report({
      fault: "petit-serverd killed", server_up_ms: upMs, failed_requests: first.filter((s) => s !== 200).length,
      ssh_restarts: afterward.reduce((n, s, i) => n + (s!.restarts - before[i]!.restarts), 0),
    });
    assert.deepEqual(first, [200, 200]);
    assert.deepEqual(afterward.map((s) => [s?.ssh_pid, s?.restarts]), before.map((s) => [s?.ssh_pid, s?.restarts]));
    assert.equal((await serverStatus(relay))?.sshd_pid, sshd, "the new petit-serverd adopts the running sshd");
    assert.deepEqual(await registrations(relay), listed);
  });

  test("petit server restart keeps every client's ssh connection", { timeout: 60_000 }, async () => {
    const clients = [alpha, beta];
    const before = await Promise.all(clients.map(clientStatus));
    const gets = recordGets(relay, alpha);
    const start = Date.now();
    const restarted = await petit(relay.home, ["server", "restart"]);
    const restartMs = Date.now() - start;
    const seen = await gets.stop();
    assert.equal(restarted.exitCode, 0, String(restarted.stderr));
    const afterward = await Promise.all(clients.map(clientStatus));
    report({ fault: "petit server restart", restart_ms: restartMs, proxy_outage_ms: seen.outage_ms, failed_requests: seen.failed, requests: seen.requests });
    assert.deepEqual(afterward.map((s) => [s?.ssh_pid, s?.restarts]), before.map((s) => [s?.ssh_pid, s?.restarts]));
    assert.equal(await probeGet(relay, alpha, 5_000), 200);
  });

  test("killing petit-clientd and running petit up leaves exactly one ssh for the client", { timeout: 60_000 }, async () => {
    const key = file(alpha, "client/id_ed25519");
    const oldSsh = pidFrom(file(alpha, "client/ssh.pid"))!;
    assert.deepEqual(sshProcessesFor(key), [oldSsh]);
    const since = Date.now();
    signal(pidFrom(file(alpha, "client/clientd.pid")), "SIGKILL");
    const [up, restore] = await Promise.all([
      petit(alpha.home, ["up"]).then((result) => ({ result, ms: Date.now() - since })),
      pollUntilServing(relay, alpha, { since, limitMs: 20_000, counts: () => ![undefined, oldSsh].includes(pidFrom(file(alpha, "client/ssh.pid"))) }),
    ]);
    const ssh = sshProcessesFor(key);
    report({ fault: "petit-clientd killed", up_ms: up.ms, restore_ms: restore.ms, failed_requests: restore.failed, ssh_processes: ssh.length });
    assert.equal(up.result.exitCode, 0, String(up.result.stderr));
    assert.deepEqual(ssh, [pidFrom(file(alpha, "client/ssh.pid"))]);
    assert.ok(restore.ms !== null, `no 200 after petit up (last failure ${restore.lastFailure})`);
    assert.equal(await probeGet(relay, alpha, 5_000), 200);
  });

  test("a port held by a frozen session is freed for its own client within 5 s, and no other client is touched", { timeout: 60_000 }, async () => {
    const betaSsh = (await clientStatus(beta))?.ssh_pid;
    const betaSessions = portHolders(beta.port);
    assert.equal(betaSessions.length, 1);
    const stuck = pidFrom(file(alpha, "client/ssh.pid"))!;
    const stuckSessions = portHolders(alpha.port);
    frozen.push(stuck);
    signal(stuck, "SIGSTOP");
    signal(pidFrom(file(alpha, "client/clientd.pid")), "SIGKILL");
    // A new petit-clientd SIGKILLs the ssh named in ssh.pid, which closes its
    // connection and frees the port at once. Without the file it cannot know
    // the frozen ssh: the case of a client host that rebooted while the relay
    // still holds its session, which the relay ends when the client asks, signed, to free its port.
    rmSync(file(alpha, "client/ssh.pid"), { force: true });
    const logFrom = statSync(file(relay, "server/serverd.log")).size;
    const since = Date.now();
    const [up, restore] = await Promise.all([
      petit(alpha.home, ["up"]),
      pollUntilServing(relay, alpha, { since, limitMs: 20_000, counts: () => !stuckSessions.some(isAlive) }),
    ]);
    const log = readFileSync(file(relay, "server/serverd.log"), "utf8").slice(logFrom);
    const clientLog = readFileSync(file(alpha, "client/clientd.log"), "utf8").split("\n").slice(-15).join("\n");
    // detect_ms: until the relay logged that it ends the stale session.
    const reapedAt = /^(\S+) stale port:/m.exec(log)?.[1];
    report({
      fault: "stale port held by a frozen session", detect_ms: reapedAt ? Date.parse(reapedAt) - since : null,
      restore_ms: restore.ms, failed_requests: restore.failed,
    });
    assert.equal(up.exitCode, 0, String(up.stderr));
    assert.ok(restore.ms !== null && restore.ms <= 5_000,
      `restored after ${restore.ms} ms (last failure ${restore.lastFailure})\nserverd.log:\n${log}\nclientd.log:\n${clientLog}`);
    assert.match(log, /stale port: client \d+ reconnected while its old session/);
    assert.equal(isAlive(stuck), true, "the frozen ssh still runs: the port was freed by the relay, not by its death");
    assert.equal((await clientStatus(beta))?.ssh_pid, betaSsh);
    assert.deepEqual(portHolders(beta.port), betaSessions);
    signal(stuck, "SIGKILL");
  });
});

/** Returns the relay's registrations (ID, port, key fingerprint), as `petit server clients` lists them. */
async function registrations(relay: Relay): Promise<{ id: number; port: number; fingerprint: string }[]> {
  const rows = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"])) as { id: number; port: number; fingerprint: string }[];
  return rows.map(({ id, port, fingerprint }) => ({ id, port, fingerprint }));
}
