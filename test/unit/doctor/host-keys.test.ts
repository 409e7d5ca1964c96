/**
 * pinnedHostKey() and scannedHostKey(): the relay key petit pinned, and the
 * one ssh-keyscan reads from the relay.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { pinnedHostKey, scannedHostKey } from "../../../lib/doctor/client-ssh-checks.ts";
import { ed25519Line } from "../ssh-keys.ts";

describe("relay host keys", () => {
  const key = ed25519Line();
  const blob = key.split(" ")[1];

  test("pinnedHostKey() finds the key pinned under petit-relay and nothing else", () => {
    assert.equal(pinnedHostKey(`other ${key}\npetit-relay ${key}\n`)?.blob, blob);
    assert.equal(pinnedHostKey(`other ${key}\n`), undefined);
    assert.equal(pinnedHostKey("petit-relay ssh-ed25519 not-base64\n"), undefined);
  });

  test("scannedHostKey() reads ssh-keyscan's key line and skips its comments", () => {
    const output = `# 127.0.0.1:2222 SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\n[127.0.0.1]:2222 ${key}\n`;
    assert.equal(scannedHostKey(output, "ssh-ed25519")?.blob, blob);
    assert.equal(scannedHostKey(output, "ssh-rsa"), undefined);
    assert.equal(scannedHostKey("", "ssh-ed25519"), undefined);
  });
});
