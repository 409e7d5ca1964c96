import { Command } from "clipanion";
import { PetitCommand } from "./base.ts";
import { callClientDaemon } from "./shared/client-status.ts";

/** `petit resume`: end a pause; ssh starts again. */
export class ResumeCommand extends PetitCommand {
  static override paths = [["resume"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Resume a paused tunnel",
    details: "Ends a `petit pause`: petit-clientd starts ssh again at once (see `petit status`). Resuming a tunnel that is not paused changes nothing (exit 0). Exit 1 when no daemon runs: start it with `petit up`.",
    examples: [["Bring the tunnel back", "$0 resume"]],
  });

  async execute(): Promise<number> {
    const status = await callClientDaemon(this.clientConfig(), this.clientPaths, "/v1/resume", { method: "POST" });
    if (!status) {
      this.err(`petit-clientd is not running: start it with "petit up"`);
      return 1;
    }
    this.out(status.state === "connected" ? "Tunnel already up" : `Tunnel resuming (state ${status.state}; "petit status" shows when it is up)`);
    return 0;
  }
}
