import { Command } from "clipanion";
import { PetitCommand } from "./base.ts";
import { callClientDaemon } from "./shared/client-status.ts";

/** `petit pause`: stop the tunnel's ssh, keep the daemon. */
export class PauseCommand extends PetitCommand {
  static override paths = [["pause"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Pause the tunnel: stop ssh, keep the daemon running",
    details: "Stops the tunnel's ssh and keeps petit-clientd (and its web console) running in state `paused`: the relay answers 502 for this client until `petit resume`. `petit up` leaves a pause alone. Pausing a paused tunnel, or when no daemon runs, is fine (exit 0).",
    examples: [["Take the service off the relay for a while", "$0 pause"]],
  });

  async execute(): Promise<number> {
    const status = await callClientDaemon(this.clientConfig(), this.clientPaths, "/v1/pause", { method: "POST", timeout: 10_000 });
    this.out(status ? `Tunnel paused (petit-clientd ${status.pid} keeps running; "petit resume" brings it back)` : "petit-clientd is not running: nothing to pause");
    return 0;
  }
}
