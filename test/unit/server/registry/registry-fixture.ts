/**
 * Shared pieces of the Registry tests: fresh options in a temp folder, and a
 * check that registry.json and authorized_keys agree.
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RegistryOptions } from "../../../../lib/server/registry/registry.ts";
import { parsePublicKey, type PublicKey } from "../../../../lib/ssh/public-key.ts";
import { ed25519Line } from "../../ssh-keys.ts";

/** First port of the test range. */
export const FIRST = 21000;

/** Returns a fresh, valid ed25519 key. */
export const newKey = (): PublicKey => parsePublicKey(ed25519Line());

let n = 0;
/** Options for a registry in a new sub-folder of `root`, range FIRST..FIRST+99. */
export function freshOptions(root: string, extra: Partial<RegistryOptions> = {}): RegistryOptions {
  const dir = join(root, `r${++n}`);
  return {
    file: join(dir, "registry.json"), authorizedKeys: join(dir, "authorized_keys"),
    range: { first: FIRST, last: FIRST + 99 }, ...extra,
  };
}

/** Asserts every client in registry.json has exactly one authorized_keys line allowing its own port only, and no other key lines exist. */
export function assertInStep(options: RegistryOptions): void {
  const { clients } = JSON.parse(readFileSync(options.file, "utf8")) as { clients: { id: number; port: number; key: PublicKey }[] };
  const lines = readFileSync(options.authorizedKeys, "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  assert.equal(lines.length, clients.length, "one line per client");
  for (const c of clients) {
    const own = lines.filter((l) => l.includes(` ${c.key.blob} `));
    assert.equal(own.length, 1, `client ${c.id} has one line`);
    assert.deepEqual(own[0].match(/permitlisten="[^"]*"/g), [`permitlisten="127.0.0.1:${c.port}"`], `client ${c.id}`);
    assert.ok(own[0].endsWith(` petit-${c.id}`));
  }
}
