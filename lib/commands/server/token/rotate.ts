import { Command } from "clipanion";
import { writeFileAtomic } from "../../../fs-atomic.ts";
import { newSecret } from "../../../secrets.ts";
import { PetitCommand } from "../../base.ts";

/** `petit server token rotate`: replace the main enrollment token. */
export class ServerTokenRotateCommand extends PetitCommand {
  static override paths = [["server", "token", "rotate"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Replace the main enrollment token",
    details: "The old main token stops working at once; registered clients are not affected. Prints the new token.",
  });

  async execute(): Promise<number> {
    this.serverConfig();
    const token = newSecret();
    writeFileAtomic(this.serverPaths.token, token + "\n", 0o600);
    this.out(token);
    return 0;
  }
}
