/**
 * Registry files: registry.json and authorized_keys kept in step, rebuilt
 * after a crash, corrupt input refused clearly, modes 0600.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "../../../../lib/server/registry/registry.ts";
import { ed25519Line } from "../../ssh-keys.ts";
import { assertInStep, freshOptions, newKey } from "./registry-fixture.ts";

describe("Registry files", () => {
  let root: string;

  before(() => (root = mkdtempSync(join(tmpdir(), "petit-registry-files-"))));
  after(() => rmSync(root, { recursive: true, force: true }));

  test("Registry keeps registry.json and authorized_keys in step: one line per client with its own port", async () => {
    const options = freshOptions(root);
    const registry = Registry.open(options);
    for (let i = 0; i < 5; i++) await registry.register(newKey(), i % 2 ? `name-${i}` : undefined);
    await registry.markSeen([1002, 1004]);
    assertInStep(options);
  });

  test("Registry.open() rewrites a deleted, truncated or edited authorized_keys from registry.json", async () => {
    const options = freshOptions(root);
    const registry = Registry.open(options);
    for (let i = 0; i < 3; i++) await registry.register(newKey(), undefined);
    const good = readFileSync(options.authorizedKeys, "utf8");
    rmSync(options.authorizedKeys);
    Registry.open(options);
    assert.equal(readFileSync(options.authorizedKeys, "utf8"), good);
    truncateSync(options.authorizedKeys, Math.floor(good.length / 2));
    Registry.open(options);
    assert.equal(readFileSync(options.authorizedKeys, "utf8"), good);
    writeFileSync(options.authorizedKeys, good + `restrict,port-forwarding ${ed25519Line()} intruder\n`);
    Registry.open(options);
    assert.equal(readFileSync(options.authorizedKeys, "utf8"), good);
    assertInStep(options);
  });

  test("Registry.open() with readOnly leaves authorized_keys alone", () => {
    const options = freshOptions(root);
    Registry.open(options);
    writeFileSync(options.authorizedKeys, "edited\n");
    assert.equal(Registry.open({ ...options, readOnly: true }).list().length, 0);
    assert.equal(readFileSync(options.authorizedKeys, "utf8"), "edited\n");
    const other = freshOptions(root);
    Registry.open({ ...other, readOnly: true });
    assert.ok(!existsSync(other.authorizedKeys));
  });

  test("Registry.open() refuses a corrupt registry.json with a message naming it, and keeps authorized_keys", async () => {
    const options = freshOptions(root);
    await Registry.open(options).register(newKey(), undefined);
    const keys = readFileSync(options.authorizedKeys, "utf8");
    const text = readFileSync(options.file, "utf8");
    for (const corrupt of [text.slice(0, text.length / 2), "", "null", "{}", '{"clients": 5}', "[]"]) {
      writeFileSync(options.file, corrupt);
      assert.throws(() => Registry.open(options), (error: Error) => {
        assert.ok(error.message.startsWith(`Cannot read registry "${options.file}": `), error.message);
        assert.match(error.message, /backup/);
        return true;
      }, JSON.stringify(corrupt));
      assert.equal(readFileSync(options.authorizedKeys, "utf8"), keys, "a failed open must not empty authorized_keys");
    }
  });

  test("Registry.open() refuses registry.json records of the wrong shape with a message naming the file", () => {
    const options = freshOptions(root);
    Registry.open(options);
    for (const corrupt of ['{"clients": [null]}', '{"clients": [{"id": 1001, "port": 21000}]}']) {
      writeFileSync(options.file, corrupt);
      assert.throws(() => Registry.open(options), (e: Error) => e.message.startsWith(`Cannot read registry "${options.file}": `), corrupt);
    }
  });

  test("Registry writes registry.json and authorized_keys with mode 0600", async () => {
    const options = freshOptions(root);
    await Registry.open(options).register(newKey(), undefined);
    assert.equal(statSync(options.file).mode & 0o777, 0o600);
    assert.equal(statSync(options.authorizedKeys).mode & 0o777, 0o600);
  });
});
