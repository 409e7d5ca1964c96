/**
 * runChecks(): time limits, prerequisites and failures of the checks
 * themselves, and the text report.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { allPassed, fail, ok, runChecks, warn, type Check } from "../../../lib/doctor/check.ts";
import { formatResults, formatSummary } from "../../../lib/doctor/format.ts";

describe("runChecks()", () => {
  test("runChecks() reports every check in order with its role, and a null fix when ok", async () => {
    const checks: Check<unknown>[] = [
      { name: "a", run: () => ok("fine") },
      { name: "b", run: async () => warn("meh", "do x") },
    ];
    assert.deepEqual(await runChecks("client", checks, {}), [
      { role: "client", check: "a", status: "ok", message: "fine", fix: null },
      { role: "client", check: "b", status: "warn", message: "meh", fix: "do x" },
    ]);
  });

  test("runChecks() does not run a check whose prerequisite failed and says which one", async () => {
    let ran = false;
    const results = await runChecks("server", [
      { name: "first", run: () => fail("broken", "fix it") },
      { name: "second", needs: ["first"], run: () => { ran = true; return ok("never"); } },
    ], {});
    assert.equal(ran, false);
    assert.equal(results[1].status, "warn");
    assert.equal(results[1].message, 'not checked: "first" failed');
    assert.match(results[1].fix!, /fix "first" first/);
  });

  test("runChecks() turns a check that runs out of time into a fail", async () => {
    const started = Date.now();
    const [result] = await runChecks("client", [
      { name: "slow", timeoutMs: 100, run: () => new Promise(() => {}) },
    ], {});
    assert.ok(Date.now() - started < 2_000);
    assert.equal(result.status, "fail");
    assert.match(result.message, /did not finish within 0.1 s/);
  });

  test("runChecks() turns a check that throws into a fail with the error's message", async () => {
    const [result] = await runChecks("client", [{ name: "boom", run: () => { throw new Error("kaput"); } }], {});
    assert.equal(result.status, "fail");
    assert.match(result.message, /kaput/);
  });

  test("allPassed() allows warnings but not failures", () => {
    const base = { role: "client" as const, check: "x", message: "m" };
    assert.equal(allPassed([{ ...base, status: "ok", fix: null }, { ...base, status: "warn", fix: "f" }]), true);
    assert.equal(allPassed([{ ...base, status: "fail", fix: "f" }]), false);
  });
});

describe("formatResults()", () => {
  test("formatResults() prints one aligned line per check with the fix on the same line", () => {
    const lines = formatResults([
      { role: "server", check: "sshd", status: "ok", message: "OpenSSH_9.2", fix: null },
      { role: "client", check: "target", status: "fail", message: "nothing answers", fix: "start it" },
    ]);
    assert.deepEqual(lines, [
      "ok    server  sshd    OpenSSH_9.2",
      "fail  client  target  nothing answers — fix: start it",
    ]);
    assert.equal(formatSummary([
      { role: "server", check: "a", status: "ok", message: "", fix: null },
      { role: "server", check: "b", status: "warn", message: "", fix: "x" },
    ]), "1 ok, 1 warn, 0 fail");
  });
});
