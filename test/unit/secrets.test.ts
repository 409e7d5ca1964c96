/**
 * Secrets: created 0600, refused when others could read them, compared in
 * constant time.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkPrivate, ensureSecret, newSecret, readSecret, safeEqual } from "../../lib/secrets.ts";

describe("secrets", () => {
  let dir: string;
  let n = 0;
  /** Writes `text` to a new file with `mode` and returns its path. */
  const file = (text: string, mode: number): string => {
    const path = join(dir, `secret-${++n}`);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), "petit-secrets-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('checkPrivate() refuses a 0644 file with a message naming it and saying "chmod 600"', () => {
    const path = file("s\n", 0o644);
    assert.throws(() => checkPrivate(path), (error: Error) => {
      assert.ok(error.message.includes(`chmod 600 "${path}"`), error.message);
      assert.ok(error.message.includes(`"${path}"`));
      assert.match(error.message, /0644/);
      return true;
    });
  });

  test("checkPrivate() refuses any group or other permission bit", () => {
    for (const mode of [0o640, 0o604, 0o620, 0o602, 0o610, 0o601, 0o666, 0o777]) {
      assert.throws(() => checkPrivate(file("s\n", mode)), /chmod 600/, mode.toString(8));
    }
  });

  test("checkPrivate() accepts files only the owner can use", () => {
    for (const mode of [0o600, 0o400, 0o700, 0o000]) {
      assert.doesNotThrow(() => checkPrivate(file("s\n", mode)), mode.toString(8));
    }
  });

  test("newSecret() returns distinct 32-byte secrets in hex, never starting with a dash", () => {
    const a = newSecret();
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(Buffer.from(a, "hex").length, 32);
    assert.notEqual(newSecret(), a);
    for (let i = 0; i < 200; i++) assert.ok(!newSecret().startsWith("-"));
  });

  test("ensureSecret() creates a 0600 secret once and returns it again afterwards", () => {
    const path = join(dir, "sub", "token");
    const secret = ensureSecret(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, "utf8").trim(), secret);
    assert.equal(ensureSecret(path), secret);
    assert.equal(readSecret(path), secret);
  });

  test("ensureSecret() keeps an existing secret and refuses one others can read", () => {
    assert.equal(ensureSecret(file("  kept-secret \n", 0o600)), "kept-secret");
    const open = file("exposed\n", 0o644);
    assert.throws(() => ensureSecret(open), /chmod 600/);
    assert.equal(readFileSync(open, "utf8"), "exposed\n", "the exposed secret is not replaced behind the user's back");
  });

  test("readSecret() returns undefined for a missing file and refuses a 0644 one", () => {
    assert.equal(readSecret(join(dir, "missing")), undefined);
    assert.throws(() => readSecret(file("x\n", 0o644)), /chmod 600/);
  });

  test("safeEqual() is true only for identical strings", () => {
    const s = newSecret();
    assert.equal(safeEqual(s, `${s}`), true);
    assert.equal(safeEqual("", ""), true);
    for (const other of [s.slice(0, -1), `${s}x`, s.toUpperCase(), "", newSecret()]) {
      assert.equal(safeEqual(s, other), false, other);
      assert.equal(safeEqual(other, s), false, other);
    }
  });
});
