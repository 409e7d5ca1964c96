/**
 * compareAuthorizedKeys(): authorized_keys must hold exactly one line per
 * registered client, as petit writes it, and nothing else.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { compareAuthorizedKeys } from "../../../lib/doctor/authorized-keys-diff.ts";
import { authorizedKeyLine, renderAuthorizedKeys } from "../../../lib/ssh/authorized-keys.ts";
import { parsePublicKey } from "../../../lib/ssh/public-key.ts";
import { ed25519Line } from "../ssh-keys.ts";

const a = { id: 1001, port: 11000, key: parsePublicKey(ed25519Line()) };
const b = { id: 1002, port: 11001, key: parsePublicKey(ed25519Line()) };
const grants = [a, b].map((c) => ({ id: c.id, key: c.key, ports: [c.port] }));

describe("compareAuthorizedKeys()", () => {
  test("compareAuthorizedKeys() finds nothing wrong in the file petit renders", () => {
    assert.deepEqual(compareAuthorizedKeys([a, b], renderAuthorizedKeys(grants)), []);
    assert.deepEqual(compareAuthorizedKeys([], renderAuthorizedKeys([])), []);
  });

  test("compareAuthorizedKeys() names a key line that is not in the registry", () => {
    const stranger = ed25519Line();
    const problems = compareAuthorizedKeys([a, b], renderAuthorizedKeys(grants) + stranger + " intruder\n");
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^line 4: a key that is not in the registry \("ssh-ed25519 .*intruder"\)$/);
  });

  test("compareAuthorizedKeys() names a client whose line is missing", () => {
    const text = renderAuthorizedKeys([grants[0]]);
    assert.deepEqual(compareAuthorizedKeys([a, b], text), ["client 1002 (port 11001) has no line"]);
  });

  test("compareAuthorizedKeys() names a client whose line was changed, and one listed twice", () => {
    const widened = authorizedKeyLine({ id: 1001, key: a.key, ports: [11000] }).replace("127.0.0.1:11000", "127.0.0.1:22");
    const text = `${widened}\n${authorizedKeyLine(grants[1])}\n${authorizedKeyLine(grants[1])}\n`;
    assert.deepEqual(compareAuthorizedKeys([a, b], text), [
      "line 1: client 1001's line differs from the registry (its key, port or options were changed)",
      "line 3: client 1002's line appears more than once",
    ]);
  });
});
