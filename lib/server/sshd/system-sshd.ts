/**
 * System sshd mode (`server.ssh_mode = "system"`): tunnels log in to the
 * machine's own sshd (port 22) instead of one petit runs. petit adds one
 * drop-in to `sshd_config.d/` holding a `Match User <tunnel user>` block,
 * checks it with sshd, reloads sshd, and never starts or stops sshd itself.
 * @module
 */
import { execa } from "execa";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { userInfo } from "node:os";
import type { ServerConfig } from "../../config/schema.ts";
import type { ServerPaths } from "../../paths.ts";
import type { SshdBackend } from "./backend.ts";
import { findSshd } from "../../ssh/find-sshd.ts";
import { SshdLogFollower, resolveLogSource } from "./log-follow.ts";
import { ensureIncluded, installDropIn, type DropInTarget } from "./system-sshd-install.ts";
import { endAccountSessions, querySshd, reloadSshd, sshdPidFrom, systemdRuns, uidOf } from "./system-sshd-query.ts";
import { readInstallRecord, writeInstallRecord } from "./system-sshd-record.ts";
import { ensureTunnelUser } from "./tunnel-user.ts";

/** File name of petit's drop-in inside the drop-in folder. */
export const DROP_IN_NAME = "50-petit.conf";

/** Settings of the system sshd backend. */
export interface SystemSshdOptions extends DropInTarget {
  /** The pid file of the system sshd; empty: the PidFile its config names. */
  pidFile: string;
  /** Where sshd's log can be followed ("journal", a file, "none"); empty: found out. */
  logSource: string;
  /** petit's copy of sshd's log lines, for `petit logs --server` (nothing acts on them: they quote network peers). */
  logCopy: string;
  /** What petit installed, for `petit server uninstall-sshd`. */
  recordFile: string;
  /** The tunnel account. */
  user: string;
  /** The keys file petit writes from its registry. */
  authorizedKeys: string;
  /** The SSH port clients are told to use; only compared with sshd's own ports. */
  port: number;
  log: (line: string) => void;
}

/** Returns the system sshd settings from the `[server]` config. */
export function systemSshdOptions(
  config: ServerConfig, paths: ServerPaths, user: string, log: (line: string) => void,
): SystemSshdOptions {
  return {
    sshdPath: findSshd(config.sshd_path), mainConfig: config.system_sshd_config,
    dropIn: join(config.system_dropin_dir, DROP_IN_NAME), pidFile: config.system_sshd_pid,
    logSource: config.system_sshd_log, logCopy: paths.sshdLog, recordFile: join(paths.dir, "system-sshd.json"),
    user, authorizedKeys: paths.authorizedKeys, port: config.ssh_port, log,
  };
}

/** Throws unless system mode can work here: root, and a tunnel account other than root. */
export function checkSystemMode(user: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`System sshd mode needs root (it writes sshd's config, reloads sshd and creates the tunnel account); running as "${userInfo().username}"`);
  }
  if (user === "root") throw new Error('server.tunnel_user cannot be "root" in system sshd mode: admins log in as root through the same sshd');
}

/**
 * Sets the system sshd up for tunnels (`petit server init --ssh-mode system`):
 * the tunnel account, the drop-in (checked, rolled back on failure), a reload.
 * Returns the account and the port sshd listens on.
 */
export async function setUpSystemSshd(
  config: ServerConfig, paths: ServerPaths, log: (line: string) => void,
): Promise<{ user: string; port: number; dropIn: string }> {
  checkSystemMode(config.tunnel_user);
  // A main config that cannot work is reported before anything (the account included) is created.
  ensureIncluded(systemSshdOptions(config, paths, "", log));
  const user = await ensureTunnelUser(config.tunnel_user, log);
  const options = systemSshdOptions(config, paths, user, log);
  const sshd = await querySshd(options.sshdPath, options.mainConfig);
  await applyDropIn(options, sshd);
  return { user, port: Number(sshd.get("port")?.[0] ?? 22), dropIn: options.dropIn };
}

/** Installs the drop-in, records it, and reloads sshd when it changed. */
async function applyDropIn(o: SystemSshdOptions, sshd: Map<string, string[]>): Promise<void> {
  const result = await installDropIn(o, { user: o.user, authorizedKeys: o.authorizedKeys });
  const earlier = readInstallRecord(o.recordFile);
  writeInstallRecord(o.recordFile, {
    drop_in: o.dropIn, main_config: o.mainConfig, sshd_path: o.sshdPath, pid_file: o.pidFile, tunnel_user: o.user,
    created_dir: result.createdDir || (earlier?.drop_in === o.dropIn && earlier.created_dir),
  });
  if (!result.changed) return;
  o.log(`sshd: wrote "${o.dropIn}" (checked with sshd -t and sshd -T)`);
  try {
    await reloadSshd({
      pidFile: pidFileOf(o, sshd), useSystemctl: !o.pidFile && systemdRuns(), listen: sshd.get("listenaddress") ?? [], log: o.log,
    });
  } catch (error) {
    // Unchanged text is never reloaded: undo, so that the next init or up writes it again and reloads.
    result.undo();
    throw new Error(`${(error as Error).message} (petit took its drop-in change back)`, { cause: error });
  }
}

function pidFileOf(o: SystemSshdOptions, sshd: Map<string, string[]>): string {
  return o.pidFile || sshd.get("pidfile")?.[0] || "/run/sshd.pid";
}

/** The machine's sshd as petit-serverd's backend: configured and reloaded, never started or stopped. */
export class SystemSshd implements SshdBackend {
  #pidFile = "";
  #hostKey = "";
  #hostKeyFile = "";
  #follower: SshdLogFollower | undefined;

  constructor(private readonly options: SystemSshdOptions) {}

  /** Always true: the system sshd ran before petit and runs after it. */
  readonly adopted = true;

  /** PID of the system sshd's listener, read from its pid file each time (systemd may have restarted it). */
  get pid(): number | undefined {
    return this.#pidFile ? sshdPidFrom(this.#pidFile) : undefined;
  }

  async start(): Promise<void> {
    const o = this.options;
    checkSystemMode(o.user);
    const sshd = await querySshd(o.sshdPath, o.mainConfig);
    await applyDropIn(o, sshd);
    this.#pidFile = pidFileOf(o, sshd);
    const pid = this.pid;
    if (!pid) throw new Error(`The system sshd is not running: no live sshd in "${this.#pidFile}" (start it, e.g. "systemctl start ssh")`);
    this.#hostKey = await readHostKey(sshd.get("hostkey") ?? []);
    this.#hostKeyFile = hostKeyPath(sshd.get("hostkey") ?? []);
    const ports = (sshd.get("port") ?? []).map(Number);
    if (!ports.includes(o.port)) o.log(`sshd: warning: clients are told port ${o.port}, but the system sshd listens on ${ports.join(", ")} (server.ssh_port)`);
    if (sshd.get("maxstartups")?.[0] === "10:30:100") {
      o.log(`sshd: note: the system sshd keeps MaxStartups 10:30:100, which refuses most of a reconnect storm; ` +
        `with many clients add "MaxStartups 1000:30:2000" to "${o.mainConfig}" (petit changes no global setting)`);
    }
    const source = resolveLogSource(o.logSource);
    if (source) {
      this.#follower = new SshdLogFollower(source, o.logCopy, o.log);
      this.#follower.start();
    } else {
      o.log("sshd: note: no log of the system sshd to follow (set server.system_sshd_log): petit logs --server shows none of it");
    }
    o.log(`sshd: using the system sshd (pid ${pid}) with "${o.dropIn}"`);
  }

  /** Ends the tunnel account's sessions; the system sshd itself keeps running. */
  async stop(): Promise<void> {
    this.release();
    const pid = this.pid;
    const uid = uidOf(this.options.user);
    if (pid && uid !== undefined && uid !== 0) {
      const ended = await endAccountSessions(pid, uid);
      if (ended.length > 0) this.options.log(`sshd: ended ${ended.length} tunnel process(es) of "${this.options.user}"`);
    }
  }

  release(): void {
    this.#follower?.stop();
    this.#follower = undefined;
  }

  hostKey(): string {
    return this.#hostKey;
  }

  hostKeyFile(): string {
    return this.#hostKeyFile;
  }
}

/**
 * Returns the public key clients pin: the ed25519 host key when sshd has
 * one (clients then negotiate that type), else its first host key.
 */
export async function readHostKey(hostKeys: string[]): Promise<string> {
  const path = hostKeyPath(hostKeys);
  if (existsSync(`${path}.pub`)) return readFileSync(`${path}.pub`, "utf8").trim();
  const derived = await execa("ssh-keygen", ["-y", "-f", path], { reject: false, stdin: "ignore" });
  if (derived.exitCode !== 0) throw new Error(`Cannot read the public half of host key "${path}": ${derived.stderr.trim()}`);
  return derived.stdout.trim();
}

/** The private host key file whose public half clients pin (see readHostKey). */
function hostKeyPath(hostKeys: string[]): string {
  const path = hostKeys.find((k) => k.endsWith("ed25519_key")) ?? hostKeys[0];
  if (!path) throw new Error("The system sshd has no HostKey");
  return path;
}

/** Where the system sshd is: the `[server]` keys that name it. */
export type SystemSshdLocation = Pick<ServerConfig, "sshd_path" | "system_sshd_config" | "system_sshd_pid">;

/** Returns the PID of the system sshd's listener named in `config`, when it runs (for commands run while petit-serverd is down). */
export async function systemSshdListener(config: SystemSshdLocation): Promise<number | undefined> {
  if (config.system_sshd_pid) return sshdPidFrom(config.system_sshd_pid);
  const sshd = await querySshd(findSshd(config.sshd_path), config.system_sshd_config);
  return sshdPidFrom(sshd.get("pidfile")?.[0] || "/run/sshd.pid");
}

/** Returns the host key line of the system sshd named in `config` (for `petit server up` to print). */
export async function systemHostKey(config: SystemSshdLocation): Promise<string> {
  const sshd = await querySshd(findSshd(config.sshd_path), config.system_sshd_config);
  return readHostKey(sshd.get("hostkey") ?? []);
}
