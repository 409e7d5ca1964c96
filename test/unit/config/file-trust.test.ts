/**
 * judge() and findUntrusted(): files and folders another account owns or
 * could write are refused with the chown/chmod that fixes them; a sticky,
 * world-writable folder such as /tmp is fine above petit's own files.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTrusted, findUntrusted, judge, TrustError, type Owned } from "../../../lib/config/file-trust.ts";

const root = { uid: 0, name: "root" };
const alice = { uid: 1000, name: "alice" };
const names = (uid: number) => ({ 0: "root", 1000: "alice", 65534: "nobody" } as Record<number, string>)[uid] ?? `uid ${uid}`;
const stat = (uid: number, mode: number, dir = false): Owned => ({ uid, mode, isDirectory: () => dir });

describe("file trust", () => {
  test("judge() trusts files of the runner or root that only their owner can write", () => {
    assert.equal(judge("/h/config.toml", stat(0, 0o100600), root, false, names), undefined);
    assert.equal(judge("/h/config.toml", stat(1000, 0o100644), alice, false, names), undefined);
    assert.equal(judge("/usr/sbin/sshd", stat(0, 0o100755), alice, false, names), undefined);
  });

  test("judge() refuses a file owned by another account, naming owner, mode and chown", () => {
    assert.deepEqual(judge("/h/config.toml", stat(65534, 0o100644), root, false, names), {
      path: "/h/config.toml",
      what: "owned by nobody (uid 65534, mode 0644)",
      fix: 'check its content, then chown root "/h/config.toml"',
    });
    // Root may not trust alice's file, and alice may not trust another user's.
    assert.ok(judge("/h/x", stat(1000, 0o100600), root, false, names));
    assert.ok(judge("/h/x", stat(65534, 0o100600), alice, false, names));
  });

  test("judge() refuses group- or world-writable files and folders with chmod go-w", () => {
    assert.deepEqual(judge("/h", stat(0, 0o40777, true), root, false, names), {
      path: "/h", what: "writable by group and others (owner root, mode 0777)", fix: 'chmod go-w "/h"',
    });
    assert.equal(judge("/h/c", stat(0, 0o100620), root, false, names)?.what, "writable by group (owner root, mode 0620)");
    assert.equal(judge("/h/c", stat(0, 0o100602), root, false, names)?.what, "writable by others (owner root, mode 0602)");
    assert.deepEqual(judge("/h/c", stat(65534, 0o100666), root, false, names), {
      path: "/h/c",
      what: "owned by nobody (uid 65534, mode 0666) and writable by group and others",
      fix: 'check its content, then chown root "/h/c" && chmod go-w "/h/c"',
    });
  });

  test("judge() excuses a sticky world-writable folder only above petit's files, never as the file itself", () => {
    assert.equal(judge("/tmp", stat(0, 0o41777, true), root, true, names), undefined);
    assert.ok(judge("/tmp/petit", stat(0, 0o41777, true), root, false, names), "the home itself must not be writable by others");
    assert.ok(judge("/shared", stat(0, 0o40777, true), root, true, names), "no sticky bit: others may replace entries");
    assert.ok(judge("/tmp", stat(65534, 0o41777, true), root, true, names), "a sticky folder's owner may still replace entries");
  });

  describe("findUntrusted() on real files", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "petit-trust-"));
      chmodSync(dir, 0o700);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test("a home under /tmp owned by the runner and 0700 passes; its missing files pass too", () => {
      const home = join(dir, "ok");
      mkdirSync(home, { mode: 0o700 });
      writeFileSync(join(home, "config.toml"), "", { mode: 0o600 });
      assert.deepEqual(findUntrusted([home, join(home, "config.toml"), join(home, "client/id_ed25519")]), []);
    });

    test("a world-writable folder above the file is found, the folders above it are checked up to /", () => {
      const open = join(dir, "open");
      mkdirSync(join(open, "deep"), { recursive: true });
      chmodSync(open, 0o777);
      writeFileSync(join(open, "deep/ssh"), "", { mode: 0o755 });
      assert.deepEqual(findUntrusted([join(open, "deep/ssh")]).map((p) => p.path), [open]);
    });

    test("a symbolic link is checked where it is and where it points", () => {
      const open = join(dir, "target");
      mkdirSync(open, { mode: 0o700 });
      chmodSync(open, 0o777);
      writeFileSync(join(open, "sshd"), "", { mode: 0o755 });
      const link = join(dir, "sshd-link");
      symlinkSync(join(open, "sshd"), link);
      assert.deepEqual(findUntrusted([link]).map((p) => p.path), [open]);
    });

    test("checkTrusted() throws a TrustError listing each file with its fix", () => {
      const home = join(dir, "bad");
      mkdirSync(home, { mode: 0o700 });
      writeFileSync(join(home, "config.toml"), "", { mode: 0o600 });
      chmodSync(join(home, "config.toml"), 0o666);
      assert.throws(() => checkTrusted([home, join(home, "config.toml")], { uid: process.getuid!(), name: "me" }), (error: Error) => {
        assert.ok(error instanceof TrustError);
        assert.match(error.message, /^Refusing to run as me: another account could change files petit trusts/);
        assert.ok(error.message.includes(`"${join(home, "config.toml")}" is writable by group and others`), error.message);
        assert.ok(error.message.includes(`fix: chmod go-w "${join(home, "config.toml")}"`), error.message);
        return true;
      });
    });
  });
});
