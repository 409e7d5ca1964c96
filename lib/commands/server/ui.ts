import { Command, Option } from "clipanion";
import { readSecret } from "../../secrets.ts";
import { loginLink, showLoginLink } from "../../ui/login-link.ts";
import { PetitCommand } from "../base.ts";

/** `petit server ui`: a login link to the relay's dashboard. */
export class ServerUiCommand extends PetitCommand {
  static override paths = [["server", "ui"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Print a one-time login link to the relay's dashboard",
    details: "The dashboard runs in petit-serverd on its control port (127.0.0.1 only; from elsewhere use `ssh -L 3016:127.0.0.1:3016 relay`): every client with its state, traffic and requests per second, search, revoke, and the enrollment tokens. The link is good once and for two minutes; it signs the browser in with an HttpOnly cookie until the relay restarts.",
    examples: [["Print the link", "$0 server ui"], ["Open it in the desktop's browser", "$0 server ui --open"]],
  });

  open = Option.Boolean("--open", false, { description: "Also open it with xdg-open" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    const secret = readSecret(this.serverPaths.controlSecret);
    const link = secret ? await loginLink({ port: config.control_port, secret }) : undefined;
    if (!link) {
      this.err(`petit-serverd is not running on 127.0.0.1:${config.control_port}: start it with "petit server up"`);
      return 1;
    }
    await showLoginLink(link, this.open, (line) => this.out(line), (line) => this.err(line));
    return 0;
  }
}
