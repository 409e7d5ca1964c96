/**
 * A disk runs full: the relay's or the client's home is a small tmpfs the
 * test mounts and fills. On the relay, a registration must then fail with a
 * clear answer and change nothing; petit-serverd must not die (its own log
 * cannot be written either), open tunnels must go on serving, and
 * registrations work again once there is space. On the client, the tunnel
 * must keep coming back, and the daemon must start.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { isAlive, readPidFile } from "../../lib/proc/process.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { keyLine } from "../helpers/fuzz.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";
import { registrationHeaders } from "../helpers/signing-keys.ts";

const ROOT = process.getuid?.() === 0;

/** Mounts a 4 MiB tmpfs on a fresh home (startRelay's and registerClient's prepareHome). */
async function smallDisk(dir: string): Promise<() => Promise<void>> {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "petit-test-disk-full", dir]);
  return async () => void execFileSync("umount", ["--lazy", dir]);
}

/** Writes `path` until the file system is full; returns how many bytes fit. */
function fill(path: string): number {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
  } finally {
    closeSync(fd);
  }
  // Whatever is smaller than a chunk, too.
  const fd2 = openSync(path, "a");
  try {
    for (;;) written += writeSync(fd2, Buffer.alloc(512, 0x61));
  } catch {
    // full
  } finally {
    closeSync(fd2);
  }
  return written;
}


describe("a full disk on the relay", { skip: !ROOT && "needs root to mount a small tmpfs as the relay's home" }, () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let filler: string;

  /** POSTs a registration of a fresh key; returns the status and the answer's error or id. */
  async function register(): Promise<{ status: number; error?: string; id?: number }> {
    const body = JSON.stringify({ public_key: keyLine() });
    const res = await request(`${relay.apiUrl}/v1/register`, {
      method: "POST", body, headersTimeout: 10_000, bodyTimeout: 10_000,
      headers: registrationHeaders(relay.token, body),
    });
    return { status: res.statusCode, ...(await res.body.json() as { error?: string; id?: number }) };
  }

  before(async () => {
    origin = await startOrigin("disk-full-origin");
    relay = await startRelay({
      rangeSize: 10,
      // Its access log too must not bring the daemon down when the disk is full.
      config: { access_log: "access.log" },
      prepareHome: smallDisk,
    });
    client = await registerClient(relay, { name: "full", target: `127.0.0.1:${origin.port}` });
    await client.up();
    filler = join(relay.home, "filler");
  });

  after(async () => {
    await client?.stop();
    if (filler) rmSync(filler, { force: true });
    await relay?.stop();
    await origin?.close();
  });

  test("a registration gets 507 naming the full disk and changes nothing; petit-serverd lives on and the open tunnel still serves", async () => {
    const files = ["registry.json", "authorized_keys"].map((name) => join(relay.home, "server", name));
    const before = files.map((file) => readFileSync(file, "utf8"));
    const serverd = readPidFile(join(relay.home, "server/serverd.pid"))!;
    assert.ok(fill(filler) > 0);

    const refused = await register();
    assert.equal(refused.status, 507, JSON.stringify(refused));
    assert.match(refused.error!, /cannot save .*no space left on the relay's disk/i);
    assert.deepEqual(files.map((file) => readFileSync(file, "utf8")), before, "registry.json and authorized_keys unchanged");
    assert.ok(isAlive(serverd), "petit-serverd still runs");
    // Traffic makes the proxy log and count; neither may bring the daemon down.
    for (let i = 0; i < 20; i++) assert.equal((await viaProxy(relay, `full.${DOMAIN}`, `/x${i}`)).status, 200);
    const rows = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"]));
    assert.deepEqual(rows.map((r: { name: string; online: boolean }) => [r.name, r.online]), [["full", true]]);
    assert.ok(isAlive(serverd), "petit-serverd still runs after traffic");
  });

  test("once there is space again, registrations work, in the same petit-serverd", async () => {
    const serverd = readPidFile(join(relay.home, "server/serverd.pid"))!;
    rmSync(filler);
    const ok = await register();
    assert.equal(ok.status, 201, JSON.stringify(ok));
    assert.equal(ok.id, 1002);
    assert.equal(readPidFile(join(relay.home, "server/serverd.pid")), serverd);
    assert.ok(readFileSync(join(relay.home, "server/authorized_keys"), "utf8").includes(" petit-1002"));
  });
});

describe("a full disk on the client", { skip: !ROOT && "needs root to mount a small tmpfs as the client's home" }, () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let filler: string;

  before(async () => {
    origin = await startOrigin("client-disk-full-origin");
    relay = await startRelay({ rangeSize: 4 });
    client = await registerClient(relay, { name: "edge", target: `127.0.0.1:${origin.port}`, prepareHome: smallDisk });
    await client.up();
    filler = join(client.home, "filler");
    assert.ok(fill(filler) > 0);
  });

  after(async () => {
    if (filler) rmSync(filler, { force: true });
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("with the client's disk full, a killed ssh is restarted and the tunnel serves again", async () => {
    const sshPid = readPidFile(join(client.home, "client/ssh.pid"))!;
    const daemon = readPidFile(join(client.home, "client/clientd.pid"))!;
    process.kill(sshPid, "SIGKILL");
    await waitFor(async () => (await viaProxy(relay, `edge.${DOMAIN}`)).status === 200 && !isAlive(sshPid), 15_000, "the tunnel to come back");
    assert.ok(isAlive(daemon), "petit-clientd still runs");
    const status = JSON.parse(await petitOk(client.home, ["status", "--json"]));
    assert.equal(status.state, "connected");
    assert.ok(status.restarts >= 1);
  });

  test("with the client's disk full, petit down and petit up bring the tunnel back", async () => {
    await client.down();
    const up = await petit(client.home, ["up"]);
    assert.equal(up.exitCode, 0, `${up.stdout}\n${up.stderr}`);
    assert.equal((await viaProxy(relay, `edge.${DOMAIN}`)).status, 200);
  });

  test("with the client's disk full, petit pause is refused with the reason and the tunnel stays up", async () => {
    const paused = await petit(client.home, ["pause"]);
    assert.equal(paused.exitCode, 1);
    assert.match(String(paused.stderr), /cannot record the pause.*no space left/i);
    assert.equal((await viaProxy(relay, `edge.${DOMAIN}`)).status, 200);
  });
});
