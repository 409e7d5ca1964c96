/**
 * The daemons' log files: rotateBySize() (copy and truncate), LogRotator,
 * rotateOwnLog(), lastLines() and followLog().
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_FILE_ENV, LogRotator, rotateBySize, rotateOwnLog } from "../../../lib/daemon/log-file.ts";
import { followLog, lastLines } from "../../../lib/daemon/log-tail.ts";

describe("log files", () => {
  let dir: string;
  let n = 0;
  /** A path in a fresh empty folder. */
  const logPath = (): string => {
    const folder = join(dir, `d${++n}`);
    mkdirSync(folder);
    return join(folder, "clientd.log");
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), "petit-log-file-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("rotateBySize() leaves a file at or under the limit alone", () => {
    const path = logPath();
    writeFileSync(path, "x".repeat(100));
    assert.equal(rotateBySize(path, { maxBytes: 100 }), false);
    assert.equal(readFileSync(path, "utf8").length, 100);
    assert.equal(existsSync(`${path}.1`), false);
  });

  test("rotateBySize() ignores a missing file", () => {
    assert.equal(rotateBySize(join(dir, "nothing.log"), { maxBytes: 1 }), false);
  });

  test("rotateBySize() copies a large file to .1 with its mode and truncates it", () => {
    const path = logPath();
    writeFileSync(path, "first line\nsecond line\n", { mode: 0o600 });
    assert.equal(rotateBySize(path, { maxBytes: 10 }), true);
    assert.equal(readFileSync(`${path}.1`, "utf8"), "first line\nsecond line\n");
    assert.equal(statSync(`${path}.1`).mode & 0o777, 0o600);
    assert.equal(statSync(path).size, 0);
  });

  test("rotateBySize() shifts older generations and keeps only `keep` of them", () => {
    const path = logPath();
    for (const generation of ["a", "b", "c", "d"]) {
      writeFileSync(path, `${generation}`.repeat(20));
      rotateBySize(path, { maxBytes: 10, keep: 3 });
    }
    assert.equal(readFileSync(`${path}.1`, "utf8"), "d".repeat(20));
    assert.equal(readFileSync(`${path}.2`, "utf8"), "c".repeat(20));
    assert.equal(readFileSync(`${path}.3`, "utf8"), "b".repeat(20));
    assert.equal(existsSync(`${path}.4`), false);
  });

  test("a writer holding the file open for append writes at the start after rotation, leaving no hole", () => {
    const path = logPath();
    // What spawnSelf() and managed-sshd.ts do: open with "a" (O_APPEND) and keep the fd.
    const fd = openSync(path, "a");
    try {
      writeSync(fd, "x".repeat(1000) + "\n");
      assert.equal(rotateBySize(path, { maxBytes: 100 }), true);
      writeSync(fd, "after rotation\n");
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(path, "utf8"), "after rotation\n");
  });

  test("LogRotator.check() rotates the files grown too large and logs each rotation", () => {
    const [big, small] = [logPath(), logPath()];
    writeFileSync(big, "y".repeat(50));
    writeFileSync(small, "z");
    const lines: string[] = [];
    new LogRotator([big, small, join(dir, "missing.log")], { maxBytes: 10, log: (line) => lines.push(line) }).check();
    assert.equal(statSync(big).size, 0);
    assert.equal(statSync(small).size, 1);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^log: ".*clientd\.log" passed 10 bytes; rotated it to ".*clientd\.log\.1"$/);
  });

  test("LogRotator.check() logs a failure instead of throwing", () => {
    const path = logPath();
    writeFileSync(path, "w".repeat(50));
    mkdirSync(`${path}.1`); // with keep 1 nothing is shifted, and copyFile onto a folder fails
    const lines: string[] = [];
    new LogRotator([path], { maxBytes: 10, keep: 1, log: (line) => lines.push(line) }).check();
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^log: cannot rotate ".*clientd\.log": .* \(will retry\)$/);
  });

  test("rotateOwnLog() does nothing without PETIT_LOG_FILE, and takes the variable out of the environment", () => {
    assert.equal(rotateOwnLog(() => {}, {}), undefined);
    const env: NodeJS.ProcessEnv = { [LOG_FILE_ENV]: logPath() };
    const rotator = rotateOwnLog(() => {}, env);
    try {
      assert.ok(rotator instanceof LogRotator);
      assert.equal(env[LOG_FILE_ENV], undefined);
    } finally {
      rotator?.stop();
    }
  });

  test("lastLines() returns the last N lines and the offset read up to", () => {
    const path = logPath();
    writeFileSync(path, "one\ntwo\nthree\nfour\n");
    assert.deepEqual(lastLines(path, 2), { text: "three\nfour\n", end: 19 });
    assert.equal(lastLines(path, 10).text, "one\ntwo\nthree\nfour\n");
    assert.deepEqual(lastLines(path, 0), { text: "", end: 19 });
  });

  test("lastLines() handles a last line without a newline, an empty file and a tail longer than one read", () => {
    const path = logPath();
    writeFileSync(path, "one\ntwo\nthree");
    assert.equal(lastLines(path, 2).text, "two\nthree");
    writeFileSync(path, "");
    assert.deepEqual(lastLines(path, 5), { text: "", end: 0 });
    const long = Array.from({ length: 3000 }, (_, i) => `line ${i} ${"·".repeat(40)}`).join("\n") + "\n";
    writeFileSync(path, long);
    const text = lastLines(path, 2500).text;
    assert.equal(text.split("\n").length, 2501);
    assert.ok(text.startsWith("line 500 "));
    assert.ok(long.endsWith(text));
  });

  test("followLog() writes what is appended, across a copy-and-truncate and a rename rotation", async () => {
    const path = logPath();
    writeFileSync(path, "old\n");
    const out: Buffer[] = [];
    const abort = new AbortController();
    const following = followLog(path, { from: 4, signal: abort.signal, intervalMs: 20, write: (chunk) => out.push(chunk) });
    const seen = () => Buffer.concat(out).toString("utf8");
    const waitFor = async (text: string) => {
      for (let i = 0; i < 200 && !seen().includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(seen().includes(text), `expected ${JSON.stringify(text)} in ${JSON.stringify(seen())}`);
    };
    try {
      appendFileSync(path, "one\n");
      await waitFor("one\n");
      // Written and rotated between two polls: the unread line is taken from .1.
      appendFileSync(path, "two\n");
      rotateBySize(path, { maxBytes: 1 });
      appendFileSync(path, "three\n");
      await waitFor("three\n");
      // A rename rotation (logrotate's default): the old file is read to its end first.
      appendFileSync(path, "four\n");
      renameSync(path, `${path}.old`);
      writeFileSync(path, "five\n");
      await waitFor("five\n");
    } finally {
      abort.abort();
      await following;
    }
    assert.equal(seen(), "one\ntwo\nthree\nfour\nfive\n");
  });

  test("followLog() waits for a missing file and stops when aborted", async () => {
    const path = logPath();
    const out: string[] = [];
    const abort = new AbortController();
    const following = followLog(path, { from: 0, signal: abort.signal, intervalMs: 20, write: (chunk) => out.push(chunk.toString()) });
    await new Promise((r) => setTimeout(r, 60));
    writeFileSync(path, "created\n");
    for (let i = 0; i < 100 && out.join("") !== "created\n"; i++) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await following;
    assert.equal(out.join(""), "created\n");
  });
});
