/**
 * authorizedKeyLine() and renderAuthorizedKeys(): the exact options of each
 * line, file order, and that ssh-keygen reads the result as key lines.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FORCED_COMMAND } from "../../../lib/constants.ts";
import { authorizedKeyLine, renderAuthorizedKeys, type KeyGrant } from "../../../lib/ssh/authorized-keys.ts";
import { parsePublicKey, type PublicKey } from "../../../lib/ssh/public-key.ts";
import { ed25519Line, keygenList, sshKeygen } from "../ssh-keys.ts";

describe("authorized_keys lines", () => {
  let dir: string;
  let key: PublicKey;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-authorized-keys-"));
    key = parsePublicKey(sshKeygen(dir, "ed25519").line);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("authorizedKeyLine() writes restrict, port-forwarding, one permitlisten, the forced command and petit-ID", () => {
    const line = authorizedKeyLine({ id: 1001, key, ports: [11081] });
    const expected =
      `restrict,port-forwarding,permitlisten="127.0.0.1:11081",command="${FORCED_COMMAND}" ` +
      `ssh-ed25519 ${key.blob} petit-1001`;
    assert.equal(line, expected);
    assert.ok(!line.includes("\n"));
  });

  test("authorizedKeyLine() repeats permitlisten once per port instead of a comma list", () => {
    const line = authorizedKeyLine({ id: 1002, key, ports: [11081, 11082, 11090] });
    const options = line.slice(0, line.indexOf(` ${key.type} `));
    assert.deepEqual(options.match(/permitlisten="[^"]*"/g), [
      'permitlisten="127.0.0.1:11081"', 'permitlisten="127.0.0.1:11082"', 'permitlisten="127.0.0.1:11090"',
    ]);
    assert.ok(options.startsWith("restrict,port-forwarding,"));
    assert.ok(options.endsWith(`command="${FORCED_COMMAND}"`));
    assert.ok(!/permitopen/i.test(line), "permitopen is invalid in a key line and voids it");
  });

  test("authorizedKeyLine() keeps the forced command inside one quoted option", () => {
    assert.ok(!FORCED_COMMAND.includes('"'), "a double quote would end command=\"…\" early");
    const line = authorizedKeyLine({ id: 1001, key, ports: [11081] });
    assert.equal(line.split(` ${key.type} `).length, 2);
  });

  test("authorizedKeyLine() ends with the key type, blob and a petit-ID comment only", () => {
    const line = authorizedKeyLine({ id: 4242, key, ports: [12000] });
    assert.ok(line.endsWith(` ${key.type} ${key.blob} petit-4242`));
  });

  test("renderAuthorizedKeys() starts with a comment header and lists grants in ID order", () => {
    const grants: KeyGrant[] = [1003, 1001, 1010, 1002].map((id) => ({
      id, key: parsePublicKey(ed25519Line()), ports: [10000 + id],
    }));
    const given = grants.map((g) => g.id);
    const text = renderAuthorizedKeys(grants);
    const lines = text.split("\n");
    assert.ok(lines[0].startsWith("# "));
    assert.ok(text.endsWith("\n"));
    assert.deepEqual(lines.slice(1, -1).map((l) => l.split(" ").at(-1)), ["petit-1001", "petit-1002", "petit-1003", "petit-1010"]);
    for (const g of grants) assert.ok(lines.includes(authorizedKeyLine(g)), `line for ${g.id}`);
    assert.deepEqual(grants.map((g) => g.id), given, "the caller's array is not reordered");
  });

  test("renderAuthorizedKeys() with no grants writes only the header", () => {
    const text = renderAuthorizedKeys([]);
    assert.equal(text.split("\n").filter(Boolean).length, 1);
    assert.ok(text.startsWith("#"));
  });

  test("authorizedKeyLine() output is accepted by ssh-keygen -l with the key's fingerprint and comment", () => {
    const file = join(dir, "one_key");
    writeFileSync(file, authorizedKeyLine({ id: 1001, key, ports: [11081, 11082] }) + "\n");
    const listed = keygenList(file);
    assert.equal(listed.length, 1);
    const [, fingerprint, comment] = listed[0].split(" ");
    assert.equal(fingerprint, key.fingerprint);
    assert.equal(comment, "petit-1001");
  });

  test("renderAuthorizedKeys() output is read by ssh-keygen -l as one key per grant", () => {
    const keys = [parsePublicKey(sshKeygen(dir, "ecdsa", 256).line), parsePublicKey(sshKeygen(dir, "rsa", 2048).line), key];
    const grants = keys.map((k, i) => ({ id: 1003 - i, key: k, ports: [11000 + i] }));
    const file = join(dir, "authorized_keys");
    writeFileSync(file, renderAuthorizedKeys(grants));
    const listed = keygenList(file).map((l) => l.split(" "));
    assert.deepEqual(listed.map((l) => l[2]), ["petit-1001", "petit-1002", "petit-1003"]);
    assert.deepEqual(listed.map((l) => l[1]), [...keys].reverse().map((k) => k.fingerprint));
  });
});
