/**
 * hostKeyChange(): a key pinned by an earlier registration is replaced only
 * when --fingerprint vouches for the new one; the refusal shows both
 * fingerprints and the flag to pass.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostKeyChange, pinnedHostKey } from "../../../lib/client/host-key-pin.ts";
import { pinHostKey } from "../../../lib/ssh/known-hosts.ts";
import { parsePublicKey } from "../../../lib/ssh/public-key.ts";
import { ed25519Line } from "../ssh-keys.ts";

describe("host key pin", () => {
  let dir: string;
  let knownHosts: string;
  const old = parsePublicKey(ed25519Line());
  const fresh = parsePublicKey(ed25519Line());
  const relay = "http://relay.example.com:3014";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "petit-pin-"));
    knownHosts = join(dir, "known_hosts");
    pinHostKey(knownHosts, `${old.type} ${old.blob}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("pinnedHostKey() reads the key petit pinned, and undefined when nothing is", () => {
    assert.deepEqual(pinnedHostKey(knownHosts), old);
    assert.equal(pinnedHostKey(join(dir, "missing")), undefined);
  });

  test("hostKeyChange() accepts a first pin and the same key again", () => {
    assert.equal(hostKeyChange({ knownHosts: join(dir, "missing"), offered: fresh, fingerprint: undefined, relay }), undefined);
    assert.equal(hostKeyChange({ knownHosts, offered: old, fingerprint: undefined, relay }), undefined);
  });

  test("hostKeyChange() refuses a different key, showing both fingerprints and --fingerprint with the new one", () => {
    const refusal = hostKeyChange({ knownHosts, offered: fresh, fingerprint: undefined, relay });
    assert.ok(refusal);
    assert.ok(refusal.startsWith(`The relay's SSH host key changed: "${knownHosts}" pins ${old.fingerprint}, but ${relay} now presents ${fresh.fingerprint}.`), refusal);
    assert.ok(refusal.includes(`run this command again with --fingerprint ${fresh.fingerprint}. Nothing was saved.`), refusal);
  });

  test("hostKeyChange() accepts a different key that --fingerprint vouches for", () => {
    assert.equal(hostKeyChange({ knownHosts, offered: fresh, fingerprint: fresh.fingerprint, relay }), undefined);
  });

  test("hostKeyChange() treats a damaged pin as a change", () => {
    const damaged = join(dir, "damaged");
    writeFileSync(damaged, "petit-relay ssh-ed25519 !!!\n");
    assert.match(hostKeyChange({ knownHosts: damaged, offered: fresh, fingerprint: undefined, relay }) ?? "", /pins an unreadable key/);
  });
});
