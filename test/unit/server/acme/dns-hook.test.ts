/**
 * runDnsHook(): the operator's program gets action, name and value as
 * arguments; a failure names the hook, its exit and what it said.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDnsHook } from "../../../../lib/server/acme/dns-hook.ts";

describe("runDnsHook()", () => {
  let dir: string;
  const script = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  before(() => (dir = mkdtempSync(join(tmpdir(), "petit-dns-hook-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("runs the hook with action, record name and value as three arguments", async () => {
    const hook = script("ok.sh", `printf '%s|' "$@" > "${dir}/args"`);
    await runDnsHook(hook, "add", "_acme-challenge.relay.example.com", "a b;c");
    assert.equal(readFileSync(join(dir, "args"), "utf8"), "add|_acme-challenge.relay.example.com|a b;c|");
  });

  test("a failing hook rejects naming the hook, the record, the exit code and the end of its stderr", async () => {
    const hook = script("fail.sh", "echo 'first line' >&2\necho 'update failed: REFUSED' >&2\nexit 3");
    await assert.rejects(runDnsHook(hook, "remove", "_acme-challenge.relay.example.com", "v"), (error: Error) => {
      assert.equal(error.message, `server.acme.dns_hook "${hook} remove _acme-challenge.relay.example.com" failed (3): first line / update failed: REFUSED`);
      return true;
    });
  });
});
