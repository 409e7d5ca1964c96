/**
 * Facts about the machine's own sshd, asked of sshd itself (`sshd -T`), and
 * the two things petit does to it at run time: reload it, and end the
 * tunnel account's sessions under its listener.
 * @module
 */
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { commandLine, descendantsOf, isAlive, readPidFile, realUid } from "../../proc/process.ts";
import { terminate } from "../../proc/signal.ts";
import { waitForPort } from "../../proc/sockets.ts";

/** Effective sshd settings: lower-case keyword → every value it has (HostKey, Port… repeat). */
export type SshdSettingsMap = Map<string, string[]>;

/**
 * Runs `sshd -T -f CONFIG` (with `-C user=…` for the settings one login gets)
 * and returns what sshd would apply. Throws with sshd's own words when it
 * refuses the config.
 */
export async function querySshd(sshdPath: string, configFile: string, user?: string): Promise<SshdSettingsMap> {
  const connection = user ? ["-C", `user=${user},host=localhost,addr=127.0.0.1`] : [];
  const result = await execa(sshdPath, ["-T", "-f", configFile, ...connection], { reject: false, stdin: "ignore" });
  if (result.exitCode !== 0) {
    throw new Error(`sshd cannot read "${configFile}" (${sshdPath} -T): ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  }
  const settings: SshdSettingsMap = new Map();
  for (const line of result.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    const key = line.slice(0, space);
    settings.set(key, [...(settings.get(key) ?? []), line.slice(space + 1)]);
  }
  return settings;
}

/** Tells whether systemd manages this machine's services. */
export function systemdRuns(): boolean {
  return existsSync("/run/systemd/system");
}

/** Returns the PID in `pidFile` when it is a live sshd (a stale file may name any process). */
export function sshdPidFrom(pidFile: string): number | undefined {
  const pid = readPidFile(pidFile);
  return pid && commandLine(pid)?.join(" ").includes("sshd") ? pid : undefined;
}

/**
 * Makes the system sshd read its config again: `systemctl reload` where
 * systemd runs and no pid file was configured, else SIGHUP to the PID in
 * `pidFile`. Resolves once every ListenAddress accepts again (sshd re-executes
 * itself on SIGHUP; open sessions live on).
 */
export async function reloadSshd(options: {
  pidFile: string; useSystemctl: boolean; listen: string[]; log: (line: string) => void;
}): Promise<void> {
  if (options.useSystemctl) {
    for (const unit of ["ssh.service", "sshd.service"]) {
      const result = await execa("systemctl", ["reload", unit], { reject: false, stdin: "ignore" });
      if (result.exitCode === 0) return options.log(`sshd: reloaded with "systemctl reload ${unit}"`);
    }
    throw new Error('Cannot reload the system sshd: "systemctl reload ssh" failed (is openssh-server running?)');
  }
  const pid = sshdPidFrom(options.pidFile);
  if (!pid) {
    throw new Error(`Cannot reload the system sshd: no running sshd in its pid file "${options.pidFile}" ` +
      "(start sshd, or set server.system_sshd_pid to the file its PidFile names)");
  }
  process.kill(pid, "SIGHUP");
  options.log(`sshd: sent SIGHUP to the system sshd (pid ${pid}) to reload its config`);
  // The listening sockets stay open for a moment after the signal: wait for the re-executed sshd, not the old one.
  await sleep(200);
  for (const address of options.listen) {
    const { host, port } = splitAddress(address);
    await waitForPort({ name: "sshd", host, port, timeoutMs: 5_000, alive: () => isAlive(pid) });
  }
}

/** Splits sshd's "HOST:PORT" / "[V6]:PORT" listen address. */
export function splitAddress(address: string): { host: string; port: number } {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  if (!match) throw new Error(`Cannot parse sshd listen address "${address}"`);
  return { host: match[1], port: Number(match[2]) };
}

/** Returns the numeric UID of `user` from /etc/passwd, or undefined when there is no such account. */
export function uidOf(user: string): number | undefined {
  const entry = readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.startsWith(`${user}:`));
  return entry ? Number(entry.split(":")[2]) : undefined;
}

/**
 * Ends (SIGTERM, then SIGKILL after 3 s) every process of the account `uid`
 * below the sshd listener `sshdPid`: the tunnel sessions. Processes of any
 * other account, admins' logins among them, are never touched. Returns the PIDs signalled.
 */
export async function endAccountSessions(sshdPid: number, uid: number): Promise<number[]> {
  if (uid === 0) throw new Error("Refusing to end root's sessions under the system sshd");
  const pids = accountProcesses(sshdPid, uid);
  await terminate(pids, 3_000);
  return pids;
}

/** The processes of account `uid` below the sshd listener `sshdPid`: that account's sessions. */
export function accountProcesses(sshdPid: number, uid: number): number[] {
  return descendantsOf(sshdPid).filter((pid) => realUid(pid) === uid);
}
