/**
 * PresenceMonitor: a client is online while its port listens on 127.0.0.1,
 * read with a real `ss` against a real listening socket.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PresenceMonitor } from "../../../../lib/server/metrics/presence.ts";
import { Registry } from "../../../../lib/server/registry/registry.ts";
import { freePort } from "../../../helpers/ports.ts";
import { freshOptions, newKey } from "../registry/registry-fixture.ts";

let root: string;
before(() => (root = mkdtempSync(join(tmpdir(), "petit-presence-"))));
after(() => rmSync(root, { recursive: true, force: true }));

const listen = (port: number) => new Promise<Server>((resolve, reject) => {
  const server = createServer().once("error", reject);
  server.listen(port, "127.0.0.1", () => resolve(server));
});

test("PresenceMonitor.refresh() shows a client online as soon as its port listens, and offline as soon as it stops", async () => {
  const port = await freePort();
  const registry = Registry.open(freshOptions(root, { range: { first: port, last: port } }));
  const { client } = await registry.register(newKey(), undefined);
  assert.equal(client.port, port);
  // A long interval: only refresh() can notice the changes below.
  const presence = new PresenceMonitor(registry, 60_000);
  await presence.refresh();
  assert.deepEqual(presence.get(client.id), { online: false, since: null });

  const server = await listen(port);
  const before = Date.now();
  await presence.refresh();
  const online = presence.get(client.id);
  assert.equal(online.online, true);
  assert.ok(Date.parse(online.since!) >= before - 1_000, `online since ${online.since}`);

  await new Promise<void>((resolve) => server.close(() => resolve()));
  await presence.refresh();
  assert.equal(presence.get(client.id).online, false);
});

test("a write of who is here that the store refused is tried again at the next poll, and a departure it missed is told again", async () => {
  const port = await freePort();
  const registry = Registry.open(freshOptions(root, { range: { first: port, last: port } }));
  const { client } = await registry.register(newKey(), undefined);
  // The store refuses the first write of each kind, as one that is restarting would.
  const seen: number[][] = [];
  const gone: number[][] = [];
  registry.markSeen = async (ids: number[]) => {
    seen.push(ids);
    if (seen.length === 1) throw new Error("store away");
  };
  registry.markGone = async (ids: number[]) => {
    if (ids.length) gone.push(ids);
    if (gone.length === 1) throw new Error("store away");
  };
  const presence = new PresenceMonitor(registry, 60_000);
  const server = await listen(port);
  await presence.refresh();
  await presence.refresh();
  await presence.refresh();
  assert.deepEqual(seen, [[client.id], [client.id]], "written on arrival, again at the next poll after the refusal, then not before 30 s");

  await new Promise<void>((resolve) => server.close(() => resolve()));
  await presence.refresh();
  await presence.refresh();
  await presence.refresh();
  assert.deepEqual(gone, [[client.id], [client.id]], "told on departure, again after the refusal, then no more");
});
