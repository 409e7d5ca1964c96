/**
 * Registry: IDs and ports handed out once each, re-registration, names,
 * concurrency and a full range, in a temp folder.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIRST_CLIENT_ID } from "../../../../lib/constants.ts";
import { Registry, RegistrationError } from "../../../../lib/server/registry/registry.ts";
import { assertInStep, FIRST, freshOptions, newKey } from "./registry-fixture.ts";

describe("Registry IDs and ports", () => {
  let root: string;

  before(() => (root = mkdtempSync(join(tmpdir(), "petit-registry-"))));
  after(() => rmSync(root, { recursive: true, force: true }));

  test("Registry.register() hands out IDs from 1001 up and ports from the start of the range", async () => {
    const registry = Registry.open(freshOptions(root));
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await registry.register(newKey(), undefined));
    assert.ok(results.every((r) => r.created));
    assert.equal(FIRST_CLIENT_ID, 1001);
    assert.deepEqual(results.map((r) => r.client.id), [1001, 1002, 1003]);
    assert.deepEqual(results.map((r) => r.client.port), [FIRST, FIRST + 1, FIRST + 2]);
    assert.deepEqual(registry.list().map((c) => c.id), [1001, 1002, 1003]);
  });

  test("Registry.register() returns the same ID and port when the same key registers again", async () => {
    const options = freshOptions(root);
    const registry = Registry.open(options);
    const key = newKey();
    const first = await registry.register(key, "shop");
    await registry.register(newKey(), undefined);
    const again = await registry.register(key, undefined);
    assert.equal(again.created, false);
    assert.deepEqual([again.client.id, again.client.port, again.client.name], [first.client.id, first.client.port, "shop"]);
    const renamed = await Registry.open(options).register(key, "store");
    assert.deepEqual([renamed.client.id, renamed.client.port, renamed.client.name], [first.client.id, first.client.port, "store"]);
    assert.equal(Registry.open(options).list().length, 2);
  });

  test("Registry.register() refuses a name another client holds with status 409", async () => {
    const options = freshOptions(root);
    const registry = Registry.open(options);
    const owner = newKey();
    await registry.register(owner, "shop");
    await assert.rejects(registry.register(newKey(), "shop"),
      (error: unknown) => error instanceof RegistrationError && error.status === 409 && /"shop" is taken/.test(error.message));
    assert.equal(registry.list().length, 1);
    assert.equal((await registry.register(owner, "shop")).created, false, "the owner may repeat its own name");
    assertInStep(options);
  });

  test("Registry.register() gives 50 concurrent registrations 50 distinct IDs and ports", async () => {
    const options = freshOptions(root, { isPortFree: () => new Promise((resolve) => setImmediate(() => resolve(true))) });
    const registry = Registry.open(options);
    const results = await Promise.all(Array.from({ length: 50 }, () => registry.register(newKey(), undefined)));
    const ids = new Set(results.map((r) => r.client.id));
    const ports = new Set(results.map((r) => r.client.port));
    assert.equal(ids.size, 50);
    assert.equal(ports.size, 50);
    for (const p of ports) assert.ok(p >= FIRST && p <= FIRST + 99, String(p));
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => 1001 + i));
    assert.equal(Registry.open(options).list().length, 50);
    assertInStep(options);
  });

  test("Registry.register() answers 503 when the port range is used up", async () => {
    const registry = Registry.open(freshOptions(root, { range: { first: FIRST, last: FIRST + 1 } }));
    const key = newKey();
    await registry.register(key, undefined);
    await registry.register(newKey(), undefined);
    await assert.rejects(registry.register(newKey(), undefined), (error: unknown) => {
      assert.ok(error instanceof RegistrationError);
      assert.equal(error.status, 503);
      assert.ok(error.message.includes(`${FIRST}-${FIRST + 1}`), error.message);
      return true;
    });
    assert.equal(registry.list().length, 2);
    assert.equal((await registry.register(key, undefined)).created, false, "known keys still get their port");
  });

  test("Registry.register() skips ports that isPortFree reports taken", async () => {
    const busy = new Set([FIRST, FIRST + 2]);
    const registry = Registry.open(freshOptions(root, { isPortFree: async (port) => !busy.has(port) }));
    const ports = [];
    for (let i = 0; i < 3; i++) ports.push((await registry.register(newKey(), undefined)).client.port);
    assert.deepEqual(ports, [FIRST + 1, FIRST + 3, FIRST + 4]);
  });

  test("Registry.register() keeps working after a registration failed", async () => {
    let fail = true;
    const registry = Registry.open(freshOptions(root, { isPortFree: async () => { if (fail) throw new Error("probe failed"); return true; } }));
    await assert.rejects(registry.register(newKey(), undefined), /probe failed/);
    fail = false;
    assert.equal((await registry.register(newKey(), undefined)).client.id, 1001);
  });

  test("Registry.lookup() finds a client by ID or by name in any case", async () => {
    const registry = Registry.open(freshOptions(root));
    await registry.register(newKey(), "shop");
    assert.equal(registry.lookup("1001")?.name, "shop");
    assert.equal(registry.lookup("SHOP")?.id, 1001);
    assert.equal(registry.lookup("1002"), undefined);
    assert.equal(registry.lookup("other"), undefined);
  });

  test("Registry.revoke() removes the client and its key line, and its ID is never handed out again", async () => {
    const options = freshOptions(root);
    const registry = Registry.open(options);
    for (let i = 0; i < 3; i++) await registry.register(newKey(), undefined);
    const removed = await registry.revoke(1003);
    assert.equal(removed?.id, 1003);
    assert.equal(await registry.revoke(1003), undefined);
    assert.equal(registry.lookup("1003"), undefined);
    assertInStep(options);
    assert.equal((await registry.register(newKey(), undefined)).client.id, 1004);
    await registry.revoke(1004);
    assert.equal((await Registry.open(options).register(newKey(), undefined)).client.id, 1005, "after a restart too");
  });
});
