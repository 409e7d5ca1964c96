/**
 * The relay's sshd cannot come back: it was killed and another program took
 * its port. petit-serverd must keep trying without restarting sshd every
 * second, say why in its log, report "not ready", and bring sshd and the
 * tunnels back once the port is free.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { isAlive, readPidFile } from "../../lib/proc/process.ts";
import { killTree, report, sleep } from "../helpers/faults.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";

/** Listens on 127.0.0.1:`port`, retrying for a second while the dying sshd still holds it. */
async function occupy(port: number): Promise<Server> {
  for (let attempt = 0; ; attempt++) {
    const server = createServer((socket) => socket.destroy());
    try {
      await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
      return server;
    } catch (error) {
      if (attempt >= 100) throw error;
      await sleep(10);
    }
  }
}

describe("the relay's sshd port taken by another program", () => {
  let relay: Relay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let squatter: Server | undefined;

  before(async () => {
    origin = await startOrigin("port-taken-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "waits", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });

  after(async () => {
    squatter?.close();
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("petit-serverd retries sshd with growing delays, logs why, answers not ready, and brings the tunnel back once the port is free", { timeout: 90_000 }, async () => {
    const log = join(relay.home, "server/serverd.log");
    const serverd = readPidFile(join(relay.home, "server/serverd.pid"))!;
    const sshd = readPidFile(join(relay.home, "server/sshd.pid"))!;
    const from = statSync(log).size;
    const started = () => (readFileSync(log, "utf8").slice(from).match(/sshd: started pid/g) ?? []).length;
    killTree(sshd);
    squatter = await occupy(relay.sshPort);
    const takenAt = Date.now();
    await sleep(10_000);
    const starts = started();
    const text = readFileSync(log, "utf8").slice(from);
    const readyz = await request(`http://127.0.0.1:${relay.controlPort}/readyz`);
    const readyText = await readyz.body.text();

    await new Promise<void>((resolve) => squatter!.close(() => resolve()));
    squatter = undefined;
    const freedAt = Date.now();
    await waitFor(async () => (await viaProxy(relay, `waits.${DOMAIN}`)).status === 200, 45_000, "the tunnel to come back");
    const backMs = Date.now() - freedAt;
    // Ready again once the sshd started last has lasted 10 s: a balancer does not put back a relay whose sshd flaps.
    await waitFor(async () => {
      const res = await request(`http://127.0.0.1:${relay.controlPort}/readyz`);
      await res.body.dump();
      return res.statusCode === 200;
    }, 30_000, "/readyz to say ready again");
    report({ fault: "sshd port taken for 10 s", sshd_starts_in_10_s: starts, back_after_port_freed_ms: backMs, taken_ms: freedAt - takenAt });

    // Every second would be ~10; the delays double from 2 s.
    assert.ok(starts >= 2 && starts <= 4, `sshd was started ${starts} times in 10 s:\n${text}`);
    assert.match(text, /exited, [\d.]+ s after its start: ".*Address already in use.*"; restarting in \d+ s/);
    assert.equal(readyz.statusCode, 503);
    assert.match(readyText, /sshd is not running/);
    assert.ok(isAlive(serverd), "petit-serverd still runs");
    assert.equal(readPidFile(join(relay.home, "server/serverd.pid")), serverd);
  });
});
