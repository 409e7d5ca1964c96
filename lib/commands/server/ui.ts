import { Command } from "clipanion";
import { UiCommandBase, type UiDaemon } from "../shared/ui-base.ts";

/** `petit server ui`: a login link to the relay's dashboard. */
export class ServerUiCommand extends UiCommandBase {
  static override paths = [["server", "ui"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Print a one-time login link to the relay's dashboard",
    details: "The dashboard runs in petit-serverd on its control port (127.0.0.1 only; from elsewhere use `ssh -L 3016:127.0.0.1:3016 relay`): every client with its state, traffic and requests per second, search, revoke, and the enrollment tokens. The link is good once and for two minutes; it signs the browser in with an HttpOnly cookie until the relay restarts.",
    examples: [["Print the link", "$0 server ui"], ["Open it in the desktop's browser", "$0 server ui --open"]],
  });

  daemon(): UiDaemon {
    const config = this.serverConfig();
    return { port: config.control_port, secretFile: this.serverPaths.controlSecret, name: "petit-serverd", startCommand: "petit server up" };
  }
}
