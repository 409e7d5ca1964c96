import { test } from "node:test";
import assert from "node:assert/strict";
import { LogRing } from "../../../lib/daemon/log-ring.ts";

test("LogRing keeps the newest lines and answers what came after a sequence number", () => {
  const ring = new LogRing(3);
  const passed: string[] = [];
  const log = ring.tee((line) => passed.push(line));
  for (const line of ["a", "b", "c", "d"]) log(line);
  assert.deepEqual(passed, ["a", "b", "c", "d"], "every line still goes to the daemon's log");
  const all = ring.since();
  assert.deepEqual(all.lines.map((e) => e.line), ["b", "c", "d"]);
  assert.equal(all.next, 4);
  log("e");
  assert.deepEqual(ring.since(all.next).lines.map((e) => [e.seq, e.line]), [[5, "e"]]);
  assert.deepEqual(ring.since(5).lines, []);
});
