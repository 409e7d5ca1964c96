import { Command } from "clipanion";
import { UiCommandBase, type UiDaemon } from "./shared/ui-base.ts";

/** `petit ui`: a login link to the client's web console. */
export class UiCommand extends UiCommandBase {
  static override paths = [["ui"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Print a one-time login link to the client's web console",
    details: "The console runs in petit-clientd on its command port (127.0.0.1 only): the tunnel's state live, start, pause/resume and stop, the target (editable), and the recent log. The link is good once and for two minutes; it signs the browser in with an HttpOnly cookie until the daemon restarts.",
    examples: [["Print the link", "$0 ui"], ["Open it in the desktop's browser", "$0 ui --open"]],
  });

  daemon(): UiDaemon {
    const config = this.clientConfig();
    return { port: config.control_port, secretFile: this.clientPaths.controlSecret, name: "petit-clientd", startCommand: "petit up" };
  }
}
