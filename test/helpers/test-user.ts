/**
 * An ordinary unprivileged account for tests that run the relay as a user
 * other than root. Created once, when missing, and left in place (like the
 * relay's own petit-tunnel account): tests in parallel may share it.
 * @module
 */
import { execa } from "execa";
import { readFileSync } from "node:fs";
import type { Account } from "./petit.ts";

/** The test account's name. */
export const TEST_USER = "petit-relay-test";

/**
 * Returns the test account, creating it if needed (as root). Its password is
 * "*" (no password, not locked): with UsePAM no, sshd refuses a locked account
 * even for its own user.
 */
export async function ensureTestUser(): Promise<Account> {
  if (!entry()) {
    const made = await execa("useradd", ["--create-home", "--shell", "/bin/sh", TEST_USER], { reject: false, stdin: "ignore" });
    // Another test file may have created it meanwhile.
    if (made.exitCode !== 0 && !entry()) throw new Error(`useradd ${TEST_USER} failed: ${made.stderr}`);
  }
  await execa("usermod", ["-p", "*", TEST_USER], { stdin: "ignore" });
  const [, , uid, gid, , home] = entry()!.split(":");
  return { name: TEST_USER, uid: Number(uid), gid: Number(gid), home };
}

function entry(): string | undefined {
  return readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.startsWith(`${TEST_USER}:`));
}
