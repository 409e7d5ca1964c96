import { test } from "node:test";
import assert from "node:assert/strict";
import { TunnelSupervisor } from "../../../lib/client/supervisor.ts";
import { READY_MARKER } from "../../../lib/constants.ts";

/** A stand-in for ssh: says the ready line, then waits (like the relay's forced command). */
function fakeSsh(label: string): string[] {
  return ["-c", `echo ${label} >&2; echo ${READY_MARKER}; exec sleep 60`];
}

async function until(supervisor: TunnelSupervisor, state: string): Promise<void> {
  const start = Date.now();
  while (supervisor.status().state !== state) {
    if (Date.now() - start > 5_000) throw new Error(`timed out waiting for state ${state}, at ${supervisor.status().state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("pause() stops ssh and waits in state paused; resume() starts it again; both may be repeated", async () => {
  const lines: string[] = [];
  const supervisor = new TunnelSupervisor({ sshPath: "sh", args: fakeSsh("first"), log: (l) => lines.push(l) });
  try {
    supervisor.start();
    await until(supervisor, "connected");
    const pid = supervisor.status().ssh_pid!;
    await supervisor.pause();
    await supervisor.pause();
    assert.equal(supervisor.status().state, "paused");
    assert.equal(supervisor.status().ssh_pid, null);
    assert.throws(() => process.kill(pid, 0), "the paused ssh is gone");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(supervisor.status().state, "paused", "no retry while paused");
    assert.equal(supervisor.status().restarts, 0, "a pause is not a failure");
    supervisor.resume();
    supervisor.resume();
    await until(supervisor, "connected");
    assert.equal(lines.filter((l) => l.startsWith("tunnel: connected")).length, 2);
    assert.ok(lines.includes("tunnel: paused on request (ssh stopped until resumed)"));
  } finally {
    await supervisor.stop();
  }
});

test("update() restarts ssh with the new arguments and keeps the supervisor running", async () => {
  const lines: string[] = [];
  const supervisor = new TunnelSupervisor({ sshPath: "sh", args: fakeSsh("old-args"), log: (l) => lines.push(l) });
  try {
    supervisor.start();
    await until(supervisor, "connected");
    await supervisor.update(fakeSsh("new-args"));
    await until(supervisor, "connected");
    assert.ok(lines.includes("ssh: new-args"));
    assert.equal(supervisor.status().restarts, 0);
  } finally {
    await supervisor.stop();
  }
});

test("update() while paused keeps the pause and uses the new arguments on resume", async () => {
  const lines: string[] = [];
  const supervisor = new TunnelSupervisor({ sshPath: "sh", args: fakeSsh("before"), log: (l) => lines.push(l) });
  try {
    supervisor.start();
    await until(supervisor, "connected");
    await supervisor.pause();
    await supervisor.update(fakeSsh("after"));
    assert.equal(supervisor.status().state, "paused");
    supervisor.resume();
    await until(supervisor, "connected");
    assert.ok(lines.includes("ssh: after"));
  } finally {
    await supervisor.stop();
  }
});
