import { Command, UsageError } from "clipanion";
import { readSecret } from "../../secrets.ts";
import { PetitCommand } from "../base.ts";

/** `petit server token`: print the enrollment token. */
export class ServerTokenCommand extends PetitCommand {
  static override paths = [["server", "token"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Print the enrollment token",
    details: "Prints the token clients pass to `petit register --token`, alone on stdout.",
    examples: [["Register a client with it", 'petit register http://relay.example.com:3014 --token "$($0 server token)"']],
  });

  async execute(): Promise<number> {
    const token = readSecret(this.serverPaths.token);
    if (!token) throw new UsageError(`No enrollment token at "${this.serverPaths.token}": run "petit server init --domain DOMAIN" first`);
    this.out(token);
    return 0;
  }
}
