import { Command, Option } from "clipanion";
import { readSecret } from "../secrets.ts";
import { loginLink, showLoginLink } from "../ui/login-link.ts";
import { PetitCommand } from "./base.ts";

/** `petit ui`: a login link to the client's web console. */
export class UiCommand extends PetitCommand {
  static override paths = [["ui"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Print a one-time login link to the client's web console",
    details: "The console runs in petit-clientd on its command port (127.0.0.1 only): the tunnel's state live, start, pause/resume and stop, the target (editable), and the recent log. The link is good once and for two minutes; it signs the browser in with an HttpOnly cookie until the daemon restarts.",
    examples: [["Print the link", "$0 ui"], ["Open it in the desktop's browser", "$0 ui --open"]],
  });

  open = Option.Boolean("--open", false, { description: "Also open it with xdg-open" });

  async execute(): Promise<number> {
    const config = this.clientConfig();
    const secret = readSecret(this.clientPaths.controlSecret);
    const link = secret ? await loginLink({ port: config.control_port, secret }) : undefined;
    if (!link) {
      this.err(`petit-clientd is not running on 127.0.0.1:${config.control_port}: start it with "petit up"`);
      return 1;
    }
    await showLoginLink(link, this.open, (line) => this.out(line), (line) => this.err(line));
    return 0;
  }
}
