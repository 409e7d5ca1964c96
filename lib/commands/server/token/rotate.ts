import { Command } from "clipanion";
import { TokenStore } from "../../../server/tokens/tokens.ts";
import { PetitCommand } from "../../base.ts";
import { refuseOfflineSharedChange } from "./offline.ts";

/** `petit server token rotate`: replace the main enrollment token. */
export class ServerTokenRotateCommand extends PetitCommand {
  static override paths = [["server", "token", "rotate"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Replace the main enrollment token",
    details: "The old main token stops working at once; registered clients are not affected. Prints the new token.",
  });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    // Through petit-serverd when it runs, like every change to the token files.
    const rotated = await this.callServer<{ token: string }>("/v1/tokens/rotate", { method: "POST" });
    if (!rotated) refuseOfflineSharedChange(config, "rotate the main token");
    this.out(rotated?.token ?? new TokenStore({ main: this.serverPaths.token, extra: this.serverPaths.tokens }).rotate());
    return 0;
  }
}
