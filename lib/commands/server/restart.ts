import { Command, Option } from "clipanion";
import { isAlive } from "../../proc/process.ts";
import { readDaemonPid } from "../../daemon/pid-file.ts";
import { runsInUnit } from "../../service/systemd.ts";
import { unitFileName } from "../../service/unit.ts";
import { PetitCommand } from "../base.ts";

/** `petit server restart`: restart petit-serverd without cutting tunnels. */
export class ServerRestartCommand extends PetitCommand {
  static override paths = [["server", "restart"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Restart the relay without cutting open tunnels",
    details: "Stops petit-serverd but leaves its sshd and every open tunnel running, then starts petit-serverd again, which adopts that sshd (and reloads it when its config changed). Use it after an upgrade or a config change. Starts the relay when it was not running.",
  });

  quiet = Option.Boolean("--quiet,-q", false, { description: "Print nothing on success" });

  async execute(): Promise<number> {
    this.serverConfig(); // fail early on a bad config, before stopping anything
    const pid = readDaemonPid(this.serverPaths.daemonPid, "server");
    if (pid && runsInUnit(pid, unitFileName("server"))) {
      // Under systemd (Restart=always), systemd starts it again; starting one ourselves would fight it for the ports.
      process.kill(pid, "SIGUSR2");
      if (!this.quiet) this.out(`Asked petit-serverd (pid ${pid}) to restart; systemd starts it again and it adopts the running sshd`);
      return 0;
    }
    if (pid) {
      process.kill(pid, "SIGUSR2");
      const deadline = Date.now() + 10_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(pid)) {
        this.err(`petit-serverd (pid ${pid}) did not stop within 10 s; try "petit server down"`);
        return 1;
      }
    }
    return this.cli.run(["server", "up", ...(this.quiet ? ["--quiet"] : []), ...(this.configOption ? ["--config", this.configFile] : [])]);
  }
}
