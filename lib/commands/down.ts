import { Command, UsageError } from "clipanion";
import { runsInUnit } from "../service/systemd.ts";
import { unitFileName } from "../service/unit.ts";
import { isPetitDaemon, readDaemonPid, stopByPidFile } from "../daemon/pid-file.ts";
import { commandLine } from "../proc/process.ts";
import { PetitCommand } from "./base.ts";

/** `petit down`: stop the client daemon and its ssh. */
export class DownCommand extends PetitCommand {
  static override paths = [["down"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Stop the tunnel and the client daemon",
    details: "Stops petit-clientd and its ssh; no ssh is left behind. Running it when nothing runs is fine (exit 0).",
  });

  async execute(): Promise<number> {
    const paths = this.clientPaths;
    const running = readDaemonPid(paths.daemonPid, "client");
    if (running && runsInUnit(running, unitFileName("client"))) {
      // systemd would start it again at once (Restart=always).
      throw new UsageError(`The daemon (pid ${running}) runs under systemd: stop it with "systemctl stop petit" (or "petit service uninstall")`);
    }
    const pid = await stopByPidFile(paths.daemonPid, (p) => isPetitDaemon(p, "client"));
    // An ssh whose daemon was killed (-9) ends by itself when its stdin closes; make sure.
    await stopByPidFile(paths.sshPid, (p) => commandLine(p)?.includes(paths.key) === true, 3_000);
    this.out(pid ? `petit-clientd stopped (pid ${pid})` : "petit-clientd is not running");
    return 0;
  }
}
