import { Command, Option, UsageError } from "clipanion";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isPetitDaemon, readDaemonPid, stopByPidFile } from "../../daemon/pid-file.ts";
import { writeFileAtomic } from "../../fs-atomic.ts";
import { isAlive } from "../../proc/process.ts";
import { serviceCommand } from "../../service/exec.ts";
import { initName, runsInUnit, systemctl, systemdRunning } from "../../service/systemd.ts";
import { renderUnit } from "../../service/unit.ts";
import { ServiceCommand } from "./base.ts";

/** `petit service install`: write, enable and start a systemd unit for the client or the relay. */
export class ServiceInstallCommand extends ServiceCommand {
  static override paths = [["service", "install"]];
  static override usage = Command.Usage({
    category: "Operations",
    description: "Run the client (or the relay) as a systemd service",
    details: `
      Writes a systemd unit that runs \`petit up --foreground\` (petit.service) or, with \`--server\`, \`petit server up --foreground\` (petit-server.service), with this same petit, PETIT_HOME and \`--config\`. It restarts the daemon whenever it exits, logs to the journal, and is sandboxed (the relay's unit less, because it runs sshd and creates the tunnel account). Then runs \`systemctl daemon-reload\` and \`systemctl enable --now\`; a daemon started earlier by \`petit up\` or \`petit server up\` is handed over (the relay's sshd and open tunnels keep running).

      A system unit goes to /etc/systemd/system (run it as root); with \`--user\`, a unit of your own goes to ~/.config/systemd/user and \`systemctl --user\` is used. Where systemd does not run, the unit is written and the command says how to go on. \`--print\` shows the unit and changes nothing.
    `,
    examples: [
      ["Run the client as a service", "sudo $0 service install"],
      ["Run the relay as a service", "sudo $0 service install --server"],
      ["A unit of your own", "$0 service install --user"],
      ["Show the unit without installing it", "$0 service install --server --print"],
    ],
  });

  print = Option.Boolean("--print", false, { description: "Print the unit and change nothing" });

  async execute(): Promise<number> {
    // A unit for a role that is not set up would only fail and restart forever.
    if (this.server) this.serverConfig();
    else this.clientConfig();
    const text = this.unitText();
    if (this.print) {
      this.context.stdout.write(text);
      return 0;
    }
    const path = this.unitPath;
    const changed = readIfExists(path) !== text;
    if (changed) this.write(path, text);
    this.out(changed ? `Wrote ${path}` : `${path} is up to date`);
    if (this.unitDir) {
      this.out(`Not a folder systemd reads by default: nothing enabled (${this.systemctlName} link ${path} would)`);
      return 0;
    }
    if (!systemdRunning()) {
      this.out(`systemd is not running on this machine (PID 1 is "${initName()}"), so ${this.unitName} was not enabled or started.`);
      this.out(`On a machine booted with systemd: ${this.systemctlName} daemon-reload && ${this.systemctlName} enable --now ${this.unitName}`);
      this.out(`Here, start petit yourself: "petit ${this.server ? "server up" : "up"}", and from cron: * * * * * petit ${this.server ? "server up" : "up"} --quiet`);
      return 0;
    }
    try {
      await this.handOver();
      await systemctl(this.scope, ["daemon-reload"]);
      this.out(`Ran ${this.systemctlName} daemon-reload`);
      await systemctl(this.scope, ["enable", "--now", this.unitName]);
      this.out(`Ran ${this.systemctlName} enable --now ${this.unitName}: it starts now and at every boot`);
    } catch (error) {
      this.err(`${this.unitName} was written but not started: ${(error as Error).message}`);
      this.err(`See "${this.systemctlName} status ${this.unitName}"; until then, "petit ${this.server ? "server up" : "up"}" starts petit without systemd`);
      return 1;
    }
    if (changed) this.out(`If ${this.unitName} was already running, restart it to apply the new unit: ${this.systemctlName} restart ${this.unitName}`);
    this.out(`Its log: journalctl${this.user ? " --user" : ""} -u ${this.unitName} -f`);
    if (this.user) this.out(`To keep it running when you are logged out, and start it at boot: loginctl enable-linger ${process.env.USER ?? "$USER"}`);
    return 0;
  }

  /** The unit's text for this role, scope, PETIT_HOME and config. */
  unitText(): string {
    const args = [...(this.server ? ["server", "up"] : ["up"]), "--foreground", ...(this.configOption ? ["--config", resolve(this.configFile)] : [])];
    const { argv, workingDirectory } = serviceCommand(args);
    try {
      return renderUnit({ role: this.role, scope: this.scope, home: this.home, command: argv, workingDirectory });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }

  write(path: string, text: string): void {
    try {
      writeFileAtomic(path, text, 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
        throw new UsageError(`Cannot write "${path}": ${code} in "${dirname(path)}": run "sudo petit service install${this.flags}", or install a unit of your own with --user`);
      }
      throw error;
    }
  }

  /**
   * Stops a daemon that `petit up` or `petit server up` started outside
   * systemd, so the unit's can take the control port. The relay's gets
   * SIGUSR2, as in `petit server restart`: its sshd and the open tunnels
   * keep running, and the unit's petit-serverd adopts them.
   */
  async handOver(): Promise<void> {
    const paths = this.server ? this.serverPaths : this.clientPaths;
    const role = this.server ? "server" : "client";
    const pid = readDaemonPid(paths.daemonPid, role);
    if (!pid || runsInUnit(pid, this.unitName)) return;
    if (this.server) {
      process.kill(pid, "SIGUSR2");
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(pid)) throw new Error(`petit-serverd (pid ${pid}), started outside systemd, did not stop within 10 s: stop it with "petit server down", then run this again`);
      this.out(`Stopped petit-serverd (pid ${pid}), started outside systemd; its sshd and open tunnels keep running for ${this.unitName} to adopt`);
    } else {
      await stopByPidFile(paths.daemonPid, (p) => isPetitDaemon(p, role));
      this.out(`Stopped petit-clientd (pid ${pid}), started outside systemd; ${this.unitName} starts it again`);
    }
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
