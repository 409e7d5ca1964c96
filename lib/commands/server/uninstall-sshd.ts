import { Command, Option, UsageError } from "clipanion";
import { execa } from "execa";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readDaemonPid } from "../../daemon/pid-file.ts";
import { findSshd } from "../../ssh/find-sshd.ts";
import { removeDropIn } from "../../server/sshd/system-sshd-install.ts";
import { endAccountSessions, querySshd, reloadSshd, sshdPidFrom, systemdRuns, uidOf } from "../../server/sshd/system-sshd-query.ts";
import { readInstallRecord, type InstallRecord } from "../../server/sshd/system-sshd-record.ts";
import { DROP_IN_NAME } from "../../server/sshd/system-sshd.ts";
import { DEFAULT_TUNNEL_USER } from "../../server/sshd/tunnel-user.ts";
import { PetitCommand } from "../base.ts";

/** `petit server uninstall-sshd`: take petit's drop-in out of the system sshd. */
export class ServerUninstallSshdCommand extends PetitCommand {
  static override paths = [["server", "uninstall-sshd"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Remove what system sshd mode added to this machine's sshd",
    details: `
      Removes exactly what \`petit server init --ssh-mode system\` added: petit's drop-in (after \`sshd -t\` accepts the config without it), petit's authorized_keys file, and the drop-in folder if petit created it and it is empty. Then reloads sshd and ends the tunnel account's open sessions. The tunnel account itself is removed only with \`--remove-user\`. Stop the relay first (\`petit server down\`). Running it again is fine.
    `,
    examples: [["Undo system sshd mode", "$0 server uninstall-sshd"], ["Also delete the tunnel account", "$0 server uninstall-sshd --remove-user"]],
  });

  removeUser = Option.Boolean("--remove-user", false, { description: "Also delete the tunnel account (userdel)" });

  async execute(): Promise<number> {
    const paths = this.serverPaths;
    const daemon = readDaemonPid(paths.daemonPid, "server");
    if (daemon) throw new UsageError(`petit-serverd is running (pid ${daemon}): stop it first with "petit server down"`);
    const recordFile = join(paths.dir, "system-sshd.json");
    const record = readInstallRecord(recordFile) ?? this.#fromConfig();
    if (!record) {
      this.out("petit installed nothing into the system sshd (no server/system-sshd.json, no [server] in system mode)");
      return 0;
    }
    const target = { sshdPath: record.sshd_path, mainConfig: record.main_config, dropIn: record.drop_in };
    const removed = await removeDropIn(target, record.created_dir).catch((error: Error) => {
      throw new UsageError(error.message);
    });
    this.out(removed ? `removed "${record.drop_in}"` : `"${record.drop_in}" was already gone`);
    const sshd = await querySshd(record.sshd_path, record.main_config);
    const pidFile = record.pid_file || sshd.get("pidfile")?.[0] || "/run/sshd.pid";
    const running = sshdPidFrom(pidFile);
    if (removed && (running || (!record.pid_file && systemdRuns()))) {
      await reloadSshd({
        pidFile, useSystemctl: !record.pid_file && systemdRuns(), listen: sshd.get("listenaddress") ?? [],
        log: (line) => this.out(line),
      });
    }
    // A reload leaves open sessions running: end the tunnel account's, which no longer has a config to run under.
    const uid = uidOf(record.tunnel_user);
    if (running && uid !== undefined && uid !== 0) {
      const ended = await endAccountSessions(running, uid);
      if (ended.length > 0) this.out(`ended ${ended.length} process(es) of "${record.tunnel_user}" under sshd pid ${running}`);
    }
    if (existsSync(paths.authorizedKeys)) {
      rmSync(paths.authorizedKeys);
      this.out(`removed "${paths.authorizedKeys}" (rebuilt from the registry when petit-serverd starts again)`);
    }
    if (this.removeUser) await this.#removeUser(record.tunnel_user, uid);
    else if (uid !== undefined) this.out(`kept the account "${record.tunnel_user}" (--remove-user deletes it)`);
    rmSync(recordFile, { force: true });
    this.out('Done. To run petit\'s own sshd again: petit server init --domain DOMAIN --ssh-mode managed');
    return 0;
  }

  async #removeUser(user: string, uid: number | undefined): Promise<void> {
    if (uid === undefined) return this.out(`the account "${user}" does not exist`);
    if (uid === 0 || user === "root") throw new UsageError(`Refusing to delete "${user}": it is root`);
    const result = await execa("userdel", [user], { reject: false, stdin: "ignore" });
    if (result.exitCode !== 0) throw new Error(`Cannot delete the account "${user}": userdel ${user} failed: ${result.stderr.trim()}`);
    this.out(`deleted the account "${user}"`);
  }

  /** What system mode would have installed, from config.toml, when the record is missing. */
  #fromConfig(): InstallRecord | undefined {
    const config = this.readConfig().server;
    if (config?.ssh_mode !== "system") return undefined;
    return {
      drop_in: join(config.system_dropin_dir, DROP_IN_NAME), main_config: config.system_sshd_config,
      sshd_path: findSshd(config.sshd_path), pid_file: config.system_sshd_pid,
      tunnel_user: config.tunnel_user || DEFAULT_TUNNEL_USER, created_dir: false,
    };
  }
}
