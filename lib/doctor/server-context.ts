/**
 * What the relay's checks are given, and which processes are petit's own.
 * @module
 */
import type { ServerConfig } from "../config/schema.ts";
import type { ServerStatus } from "../protocol/server-control.ts";
import type { ServerPaths } from "../paths.ts";
import { readDaemonPid } from "../daemon/pid-file.ts";
import { descendantsOf } from "../proc/process.ts";
import { runningSshd } from "../server/sshd/managed-sshd.ts";
import { accountProcesses, uidOf } from "../server/sshd/system-sshd-query.ts";
import { rootTunnelUser } from "../server/sshd/tunnel-user.ts";
import { readListeners, type Listener } from "./listeners.ts";

/** Settings and files of the relay being checked, plus what earlier checks learned. */
export interface ServerContext {
  config: ServerConfig;
  paths: ServerPaths;
  /** PETIT_HOME, whose mode is checked. */
  home: string;
  /** The config file, for fixes that name a key in it. */
  configFile: string;
  /** The sshd binary, found by the "sshd" check. */
  sshdPath?: string;
  /** What petit-serverd answered on its control port, when it runs. */
  running?: ServerStatus;
  /** In system sshd mode: the machine's sshd listener, found by the "sshd-config" check. */
  systemSshdPid?: number;
  /** This machine's listening sockets, read once: /proc/net/tcp can be megabytes on a busy relay. */
  listeners?: Listener[];
}

/** petit's own processes on the relay: petit-serverd, its sshd (the system's, in system mode), and the tunnel sessions. */
export interface PetitProcesses {
  serverd: number | undefined;
  sshd: number | undefined;
  /** sshd's session processes: they hold the tunnel ports. */
  sessions: Set<number>;
}

/** Finds petit's processes from the control port's answer or, when the relay is down, from the pid files. */
export function petitProcesses({ running, paths, config, systemSshdPid }: ServerContext): PetitProcesses {
  const serverd = running?.pid ?? readDaemonPid(paths.daemonPid, "server");
  if (config.ssh_mode === "system") {
    // The machine's sshd also serves admins: only the tunnel account's processes are petit's sessions.
    const sshd = running?.sshd_pid ?? systemSshdPid;
    const uid = uidOf(rootTunnelUser(config.tunnel_user));
    return { serverd, sshd, sessions: new Set(sshd && uid !== undefined ? accountProcesses(sshd, uid) : []) };
  }
  const sshd = running?.sshd_pid ?? runningSshd(paths.sshdPid, paths.sshdConfig);
  return { serverd, sshd, sessions: new Set(sshd ? descendantsOf(sshd) : []) };
}

/** The command that makes petit-serverd start over: restart when it runs, up when it does not. */
export function restartFix(context: ServerContext): string {
  // The pid file too: checks that come before "daemon" have no control-port answer yet.
  return context.running || readDaemonPid(context.paths.daemonPid, "server") ? "petit server restart" : "petit server up";
}

/** Returns this machine's listening sockets, reading /proc once per doctor run. */
export function listenersOf(context: ServerContext): Listener[] {
  context.listeners ??= readListeners();
  return context.listeners;
}
