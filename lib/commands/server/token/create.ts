import { Command, Option, UsageError } from "clipanion";
import { parseDuration, TokenStore } from "../../../server/tokens/tokens.ts";
import { PetitCommand } from "../../base.ts";
import { refuseOfflineSharedChange } from "./offline.ts";

/** `petit server token create`: an extra enrollment token, limited in time or uses. */
export class ServerTokenCreateCommand extends PetitCommand {
  static override paths = [["server", "token", "create"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Create an extra enrollment token, optionally expiring or limited in uses",
    details: "Prints the new token alone on stdout. It works with `petit register --token` like the main one until it expires, is used up, or is revoked with `petit server token revoke ID`.",
    examples: [["A token for one client, valid one day", "$0 server token create --expires 1d --uses 1 --label office-nas"]],
  });

  expires = Option.String("--expires", { description: "Lifetime such as 30m, 12h or 7d" });
  uses = Option.String("--uses", { description: "How many registrations it allows" });
  label = Option.String("--label", { description: "A note for the listing" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    const expiresIn = this.expires === undefined ? undefined : parseDuration(this.expires);
    if (this.expires !== undefined && !expiresIn) throw new UsageError(`--expires must look like 30m, 12h or 7d, got "${this.expires}"`);
    const uses = this.uses === undefined ? undefined : Number(this.uses);
    if (uses !== undefined && (!Number.isInteger(uses) || uses < 1)) throw new UsageError(`--uses must be a whole number ≥ 1, got "${this.uses}"`);
    // Through petit-serverd when it runs: it counts token uses in the same file, and one writer loses no change.
    let created = await this.callServer<{ token: string }>("/v1/tokens", { method: "POST", body: { label: this.label, expires: this.expires, uses } });
    if (!created) {
      refuseOfflineSharedChange(config, "create a token");
      created = new TokenStore({ main: this.serverPaths.token, extra: this.serverPaths.tokens }).create({ label: this.label, expiresIn, uses });
    }
    this.out(created.token);
    return 0;
  }
}
