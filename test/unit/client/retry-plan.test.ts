import { test } from "node:test";
import assert from "node:assert/strict";
import type { ExitReason } from "../../../lib/client/classify.ts";
import { nextAttempt } from "../../../lib/client/retry-plan.ts";
import type { SupervisorOptions } from "../../../lib/client/supervisor-options.ts";

const network: ExitReason = { retryable: true, network: true, message: "ssh exited 255: Connection refused" };
const refused: ExitReason = { retryable: false, network: false, message: "the relay refused this client's key" };

/** Options with `count` relays whose args name the relay ("r0", "r1", …), starting at r0. */
function options(count: number): SupervisorOptions & { lines: string[] } {
  let current = 0;
  const lines: string[] = [];
  return {
    sshPath: "ssh", args: ["r0"], log: (line) => lines.push(line), lines,
    failover: { count, next: () => ({ args: [`r${(current = (current + 1) % count)}`], relay: `r${current}` }) },
  };
}

test("nextAttempt() moves to the next relay after a network failure, without backoff until each relay was tried", () => {
  const o = options(3);
  assert.equal(nextAttempt(o, network, 8_000, 0), 500);
  assert.deepEqual(o.args, ["r1"]);
  assert.equal(nextAttempt(o, network, 8_000, 1), 500);
  assert.deepEqual(o.args, ["r2"]);
  // A full round failed: the next relay is tried after the backoff.
  assert.equal(nextAttempt(o, network, 8_000, 2), 8_000);
  assert.deepEqual(o.args, ["r0"]);
  assert.match(o.lines.join("\n"), /moving to relay r1/);
});

test("nextAttempt() stays on the relay when the failure is not the network's, or when there is no other relay", () => {
  const o = options(3);
  assert.equal(nextAttempt(o, refused, 60_000, 0), 60_000);
  assert.deepEqual(o.args, ["r0"]);
  const alone = options(1);
  assert.equal(nextAttempt(alone, network, 4_000, 0), 4_000);
  assert.deepEqual(alone.args, ["r0"]);
});
