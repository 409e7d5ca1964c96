import { Command, UsageError } from "clipanion";
import { runsInUnit } from "../../service/systemd.ts";
import { unitFileName } from "../../service/unit.ts";
import { isPetitDaemon, readDaemonPid, stopByPidFile } from "../../daemon/pid-file.ts";
import { runningSshd, stopSshdTree } from "../../server/sshd/managed-sshd.ts";
import { PetitCommand } from "../base.ts";

/** `petit server down`: stop petit-serverd and its sshd. */
export class ServerDownCommand extends PetitCommand {
  static override paths = [["server", "down"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Stop the relay and everything it started",
    details: "Stops petit-serverd, its sshd and the tunnel sessions. Running it when nothing runs is fine (exit 0).",
  });

  async execute(): Promise<number> {
    const paths = this.serverPaths;
    const running = readDaemonPid(paths.daemonPid, "server");
    if (running && runsInUnit(running, unitFileName("server"))) {
      // systemd would start it again at once (Restart=always).
      throw new UsageError(`The daemon (pid ${running}) runs under systemd: stop it with "systemctl stop petit-server" (or "petit service uninstall --server")`);
    }
    const pid = await stopByPidFile(paths.daemonPid, (p) => isPetitDaemon(p, "server"));
    // An sshd left behind by a petit-serverd that was killed (-9) is stopped too.
    const orphan = runningSshd(paths.sshdPid, paths.sshdConfig);
    if (orphan) await stopSshdTree(orphan);
    if (pid) this.out(`petit-serverd stopped (pid ${pid})`);
    else if (orphan) this.out(`petit-serverd was not running; stopped its sshd (pid ${orphan})`);
    else this.out("petit-serverd is not running");
    return 0;
  }
}
