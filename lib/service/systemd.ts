/**
 * Talking to systemd: where unit files go, whether systemd runs here, and
 * running systemctl.
 * @module
 */
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Scope } from "./unit.ts";

/** Returns the folder for the administrator's units (system) or the user's own (user). */
export function defaultUnitDir(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  if (scope === "system") return "/etc/systemd/system";
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "systemd", "user");
}

/** Tells whether this machine was booted with systemd (sd_booted(3): /run/systemd/system exists). */
export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}

/** Returns the name of PID 1 (e.g. "systemd", "init", "tini"), for messages. */
export function initName(): string {
  try {
    return readFileSync("/proc/1/comm", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** The systemctl command for `scope`, as a user would type it. */
export function systemctlName(scope: Scope): string {
  return scope === "user" ? "systemctl --user" : "systemctl";
}

/**
 * Runs `systemctl [--user] <args>`; throws with systemctl's own message when
 * it fails.
 */
export async function systemctl(scope: Scope, args: string[]): Promise<void> {
  const result = await execa("systemctl", [...(scope === "user" ? ["--user"] : []), ...args], {
    reject: false, stdin: "ignore", timeout: 60_000,
  });
  if (result.exitCode !== 0) {
    const why = (result.stderr || result.stdout || String(result.shortMessage ?? "")).trim();
    throw new Error(`"${systemctlName(scope)} ${args.join(" ")}" failed: ${why || `exit ${result.exitCode}`}`);
  }
}

/** Tells whether process `pid` runs inside the systemd unit `unit` (from its cgroup). */
export function runsInUnit(pid: number, unit: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").some((line) => line.endsWith(`/${unit}`));
  } catch {
    return false;
  }
}
