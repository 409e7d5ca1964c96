/**
 * parsePublicKey(): real keys from ssh-keygen are accepted with ssh-keygen's
 * own fingerprint; anything that is not exactly one plain key line is refused.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePublicKey } from "../../../lib/ssh/public-key.ts";
import { ed25519Line, keygenFingerprint, sshBlob, sshKeygen, type KeyFile } from "../ssh-keys.ts";

describe("parsePublicKey()", () => {
  let dir: string;
  let ed25519: KeyFile;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-public-key-"));
    ed25519 = sshKeygen(dir, "ed25519");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    { type: "ed25519", expected: "ssh-ed25519" },
    { type: "ecdsa", bits: 256, expected: "ecdsa-sha2-nistp256" },
    { type: "ecdsa", bits: 384, expected: "ecdsa-sha2-nistp384" },
    { type: "ecdsa", bits: 521, expected: "ecdsa-sha2-nistp521" },
    { type: "rsa", bits: 3072, expected: "ssh-rsa" },
  ] as const;
  for (const c of cases) {
    test(`parsePublicKey() accepts a ${c.expected} key from ssh-keygen with ssh-keygen's fingerprint`, () => {
      const key = sshKeygen(dir, c.type, "bits" in c ? c.bits : undefined);
      const parsed = parsePublicKey(key.line);
      assert.equal(parsed.type, c.expected);
      assert.equal(parsed.blob, key.line.split(" ")[1]);
      assert.equal(parsed.fingerprint, keygenFingerprint(key.path));
    });
  }

  test("parsePublicKey() accepts a line without a comment, and one ending in a single newline", () => {
    const [type, blob] = ed25519.line.split(" ");
    const expected = keygenFingerprint(ed25519.path);
    assert.equal(parsePublicKey(`${type} ${blob}`).fingerprint, expected);
    assert.equal(parsePublicKey(`${ed25519.line}\n`).fingerprint, expected);
  });

  test("parsePublicKey() drops the comment and keeps only type, blob and fingerprint", () => {
    const parsed = parsePublicKey(`${ed25519.line.split(" ").slice(0, 2).join(" ")} evil"comment,with=options`);
    assert.deepEqual(Object.keys(parsed).sort(), ["blob", "fingerprint", "type"]);
    assert.ok(!JSON.stringify(parsed).includes("evil"));
  });

  test("parsePublicKey() gives ssh-keygen's fingerprint for a key built in-process", () => {
    const line = ed25519Line();
    const file = join(dir, "built.pub");
    writeFileSync(file, line + "\n");
    assert.equal(parsePublicKey(line).fingerprint, keygenFingerprint(file));
  });

  test("parsePublicKey() refuses a key line with options before the key", () => {
    for (const options of ['command="x"', "restrict", 'permitlisten="0.0.0.0:22",no-pty']) {
      assert.throws(() => parsePublicKey(`${options} ${ed25519.line}`), /options before the key are not accepted/, options);
    }
  });

  test("parsePublicKey() refuses an embedded newline, CR or NUL", () => {
    const [type, blob] = ed25519.line.split(" ");
    for (const bad of [
      `${type} ${blob}\nmore`, `${type} ${blob}\r\n`, `${type} ${blob}\0`, `${type}\n${blob}`,
      `${type} ${blob} a\rb`, `${type}\t${blob}`,
    ]) {
      assert.throws(() => parsePublicKey(bad), /single line without control characters/, JSON.stringify(bad));
    }
  });

  test("parsePublicKey() refuses two keys on two lines", () => {
    const other = sshKeygen(dir, "ed25519").line;
    assert.throws(() => parsePublicKey(`${ed25519.line}\n${other}`), /single line/);
    assert.throws(() => parsePublicKey(`${ed25519.line}\n${other}\n`), /single line/);
  });

  test("parsePublicKey() refuses two keys on one line", () => {
    const other = ed25519Line();
    assert.throws(() => parsePublicKey(`${ed25519.line.split(" ").slice(0, 2).join(" ")} ${other}`));
  });

  test("parsePublicKey() refuses a DSA (ssh-dss) key", () => {
    const dsa = sshKeygen(dir, "dsa");
    assert.ok(dsa.line.startsWith("ssh-dss "));
    assert.throws(() => parsePublicKey(dsa.line), /type "ssh-dss", expected one of/);
  });

  test("parsePublicKey() refuses a blob whose embedded type differs from the declared type", () => {
    const blob = ed25519.line.split(" ")[1];
    assert.throws(() => parsePublicKey(`ssh-rsa ${blob}`), /does not hold a "ssh-rsa" key/);
    const p256 = sshKeygen(dir, "ecdsa", 256).line.split(" ")[1];
    assert.throws(() => parsePublicKey(`ecdsa-sha2-nistp384 ${p256}`), /does not hold a "ecdsa-sha2-nistp384" key/);
  });

  test("parsePublicKey() refuses a blob too short to hold its type", () => {
    const short = sshBlob("ssh-ed25519").subarray(0, 8).toString("base64");
    assert.throws(() => parsePublicKey(`ssh-ed25519 ${short}`), /does not hold/);
    const lying = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63, 0x64]).toString("base64");
    assert.throws(() => parsePublicKey(`ssh-ed25519 ${lying}`), /does not hold/);
  });

  test("parsePublicKey() refuses a blob that names the type but holds no key", () => {
    assert.throws(() => parsePublicKey(`ssh-ed25519 ${sshBlob("ssh-ed25519").toString("base64")}`));
  });

  test("parsePublicKey() refuses key data that is not base64", () => {
    const blob = ed25519.line.split(" ")[1];
    for (const bad of [`${blob.slice(0, -4)}!!!!`, blob.slice(0, -1), `${blob}=`, "AAAA-_AA", `${blob}===`]) {
      assert.throws(() => parsePublicKey(`ssh-ed25519 ${bad}`), /not valid base64/, bad);
    }
  });

  test("parsePublicKey() refuses empty and type-only input", () => {
    for (const bad of ["", " ", "\n", "ssh-ed25519", "ssh-ed25519 "]) {
      assert.throws(() => parsePublicKey(bad), /must look like/, JSON.stringify(bad));
    }
  });

  test("parsePublicKey() refuses a value that is not a string", () => {
    for (const bad of [undefined, null, 42, {}, [ed25519.line], Buffer.from(ed25519.line)]) {
      assert.throws(() => parsePublicKey(bad), /must be a string/);
    }
  });

  test("parsePublicKey() refuses input over 16384 characters and accepts it at the limit", () => {
    const base = ed25519.line.split(" ").slice(0, 2).join(" ") + " ";
    const atLimit = base + "c".repeat(16384 - base.length);
    assert.equal(parsePublicKey(atLimit).type, "ssh-ed25519");
    assert.throws(() => parsePublicKey(atLimit + "c"), /too long/);
  });
});
