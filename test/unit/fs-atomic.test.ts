/**
 * writeFileAtomic() and readFileIfExists(): whole-file replacement by
 * rename, modes, and missing files.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileIfExists, writeFileAtomic, writeFilesAtomic } from "../../lib/fs-atomic.ts";

describe("atomic files", () => {
  let dir: string;
  let n = 0;
  /** A fresh empty folder. */
  const folder = (): string => {
    const path = join(dir, `d${++n}`);
    mkdirSync(path);
    return path;
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), "petit-fs-atomic-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("writeFilesAtomic() replaces none of its files when writing one of them fails, and leaves no temp file", () => {
    const d = folder();
    const [a, b] = [join(d, "registry.json"), join(d, "authorized_keys")];
    writeFileSync(a, "old a\n");
    writeFileSync(b, "old b\n");
    // The second file's folder cannot be made: a file stands where it should be.
    writeFileSync(join(d, "blocked"), "");
    assert.throws(() => writeFilesAtomic([{ path: a, data: "new a\n" }, { path: join(d, "blocked/c"), data: "c" }]), /EEXIST|ENOTDIR/);
    assert.equal(readFileSync(a, "utf8"), "old a\n");
    assert.deepEqual(readdirSync(d).sort(), ["authorized_keys", "blocked", "registry.json"]);
    writeFilesAtomic([{ path: a, data: "new a\n" }, { path: b, data: "new b\n", mode: 0o644 }]);
    assert.deepEqual([readFileSync(a, "utf8"), readFileSync(b, "utf8")], ["new a\n", "new b\n"]);
    assert.equal(statSync(b).mode & 0o777, 0o644);
  });

  test("writeFileAtomic() writes the data with mode 0600 by default", () => {
    const path = join(folder(), "registry.json");
    writeFileAtomic(path, '{"a": 1}\n');
    assert.equal(readFileSync(path, "utf8"), '{"a": 1}\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test("writeFileAtomic() applies the mode it is given", () => {
    const path = join(folder(), "ssh.pid");
    writeFileAtomic(path, "123\n", 0o644);
    assert.equal(statSync(path).mode & 0o777, 0o644);
  });

  test("writeFileAtomic() replaces an existing file's content and mode", () => {
    const path = join(folder(), "secret");
    writeFileSync(path, "old content that is longer than the new one\n");
    chmodSync(path, 0o644);
    writeFileAtomic(path, "new\n", 0o600);
    assert.equal(readFileSync(path, "utf8"), "new\n");
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test("writeFileAtomic() swaps in a new file, so a reader holding the old one sees the old content whole", () => {
    const path = join(folder(), "authorized_keys");
    writeFileAtomic(path, "old\n");
    const fd = openSync(path, "r");
    try {
      writeFileAtomic(path, "new content\n");
      const buffer = Buffer.alloc(64);
      assert.equal(buffer.subarray(0, readSync(fd, buffer, 0, 64, 0)).toString(), "old\n");
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(path, "utf8"), "new content\n");
  });

  test("writeFileAtomic() creates missing parent folders with mode 0700", () => {
    const base = folder();
    const path = join(base, "a", "b", "config.toml");
    writeFileAtomic(path, "x = 1\n");
    assert.equal(readFileSync(path, "utf8"), "x = 1\n");
    assert.equal(statSync(join(base, "a")).mode & 0o777, 0o700);
    assert.equal(statSync(join(base, "a", "b")).mode & 0o777, 0o700);
  });

  test("writeFileAtomic() leaves no temp file behind after many writes", () => {
    const base = folder();
    for (let i = 0; i < 20; i++) writeFileAtomic(join(base, "registry.json"), `${i}\n`);
    assert.deepEqual(readdirSync(base), ["registry.json"]);
    assert.equal(readFileSync(join(base, "registry.json"), "utf8"), "19\n");
  });

  test("writeFileAtomic() leaves no temp file behind when the rename fails", () => {
    const base = folder();
    mkdirSync(join(base, "target"));
    assert.throws(() => writeFileAtomic(join(base, "target"), "data\n"));
    assert.deepEqual(readdirSync(base), ["target"]);
  });

  test("readFileIfExists() returns the text of an existing file", () => {
    const path = join(folder(), "x.txt");
    writeFileSync(path, "héllo\n");
    assert.equal(readFileIfExists(path), "héllo\n");
    writeFileSync(path, "");
    assert.equal(readFileIfExists(path), "");
  });

  test("readFileIfExists() returns undefined for a missing file", () => {
    assert.equal(readFileIfExists(join(folder(), "missing.json")), undefined);
    assert.equal(readFileIfExists(join(dir, "no-such-folder", "missing.json")), undefined);
  });

  test("readFileIfExists() throws for errors other than a missing file", () => {
    assert.throws(() => readFileIfExists(folder()), (error: NodeJS.ErrnoException) => error.code === "EISDIR");
  });
});
