/**
 * The account tunnels log in as. A relay running as root never lets a
 * client session run as root: it uses a dedicated unprivileged account with
 * no password and a plain /bin/sh (no rc files to run at each login).
 * @module
 */
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";

/** Default name of the dedicated tunnel account. */
export const DEFAULT_TUNNEL_USER = "petit-tunnel";

/**
 * Returns the account tunnels use: `configured` if set; else, as root, the
 * dedicated account (created if missing); else the current user, which is
 * the only account a non-root sshd can serve.
 */
export async function ensureTunnelUser(configured: string, log: (line: string) => void): Promise<string> {
  const current = userInfo().username;
  if (process.getuid?.() !== 0) {
    if (configured && configured !== current) {
      throw new Error(`server.tunnel_user is "${configured}", but a relay not running as root can only serve its own user "${current}"`);
    }
    return current;
  }
  const name = rootTunnelUser(configured);
  if (name === "root") return name;
  const entry = passwdEntry(name);
  if (!entry) {
    log(`creating tunnel account "${name}" (no password, shell /bin/sh, home /)`);
    await run("useradd", ["--system", "--no-create-home", "--home-dir", "/", "--shell", "/bin/sh", name]);
  }
  // useradd locks the password ("!"); with UsePAM no, sshd refuses locked accounts. "*" means no password, not locked.
  if (accountLocked(name)) await run("usermod", ["-p", "*", name]);
  return name;
}

/** Returns the numeric uid of account `name`, or undefined when there is no such account. */
export function uidOf(name: string): number | undefined {
  const uid = Number(passwdEntry(name)?.split(":")[2]);
  return Number.isInteger(uid) ? uid : undefined;
}

function passwdEntry(name: string): string | undefined {
  return readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.startsWith(`${name}:`));
}

/** Tells whether account `name` is locked (password field "!…"), which sshd refuses with UsePAM no; false when unreadable. */
export function accountLocked(name: string): boolean {
  return shadowPassword(name)?.startsWith("!") ?? false;
}

/** The account tunnels use under a root relay: server.tunnel_user, else the dedicated one. */
export function rootTunnelUser(configured: string): string {
  return configured || DEFAULT_TUNNEL_USER;
}

function shadowPassword(name: string): string | undefined {
  try {
    return readFileSync("/etc/shadow", "utf8").split("\n").find((line) => line.startsWith(`${name}:`))?.split(":")[1];
  } catch {
    return undefined;
  }
}

async function run(program: string, args: string[]): Promise<void> {
  const result = await execa(program, args, { reject: false, stdin: "ignore" });
  if (result.exitCode !== 0) {
    throw new Error(`Cannot set up the tunnel account: ${program} ${args.join(" ")} failed: ${result.stderr.trim()}`);
  }
}
