/**
 * isAlive(): a process that exited but was not reaped yet (a zombie) is not
 * alive; startTime() tells one process from a later one with its number.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { isAlive, startTime } from "../../../lib/proc/process.ts";

describe("isAlive()", () => {
  test("isAlive() is true for this process and false for a PID that does not exist", () => {
    assert.equal(isAlive(process.pid), true);
    assert.equal(isAlive(2 ** 22 + 1), false);
  });

  test("isAlive() is false for a zombie whose parent never reaps it", async () => {
    // The shell starts `sleep 0` in the background, then becomes `sleep 30`,
    // which never waits for its child: the child stays a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const [chunk] = (await once(parent.stdout!, "data")) as [Buffer];
      const zombie = Number(chunk.toString().trim());
      for (let i = 0; i < 100 && !state(zombie).startsWith("Z"); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(state(zombie).slice(0, 1), "Z");
      assert.equal(isAlive(zombie), false);
      assert.equal(isAlive(parent.pid!), true);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});

/** The state letter(s) of `pid` from /proc, or "" when it is gone. */
function state(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2);
  } catch {
    return "";
  }
}

test("startTime() names one process: the same on every read, another for a later process, none once it is gone", async () => {
  const own = startTime(process.pid);
  assert.match(own ?? "", /^\d+$/);
  assert.equal(startTime(process.pid), own);
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  const childStart = startTime(child.pid!);
  assert.match(childStart ?? "", /^\d+$/);
  assert.ok(BigInt(childStart!) >= BigInt(own!), "a child starts after its parent");
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(startTime(child.pid!), undefined);
});
