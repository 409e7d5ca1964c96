import { Command, Option, UsageError } from "clipanion";
import { MAIN_TOKEN_ID, TokenStore } from "../../../server/tokens/tokens.ts";
import { PetitCommand } from "../../base.ts";
import { refuseOfflineSharedChange } from "./offline.ts";

/** `petit server token revoke`: make an extra enrollment token unusable. */
export class ServerTokenRevokeCommand extends PetitCommand {
  static override paths = [["server", "token", "revoke"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Revoke an extra enrollment token",
    details: "Clients already registered with it stay registered. The main token cannot be revoked: rotate it with `petit server token rotate`.",
    examples: [["Revoke token t3", "$0 server token revoke t3"]],
  });

  id = Option.String({ name: "ID" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    if (this.id === MAIN_TOKEN_ID) throw new UsageError('The main token cannot be revoked; run "petit server token rotate" to replace it');
    // Through petit-serverd when it runs: it counts token uses in the same file, and one writer loses no change.
    let revoked: boolean | undefined;
    try {
      revoked = (await this.callServer(`/v1/tokens/${encodeURIComponent(this.id)}/revoke`, { method: "POST" })) === undefined ? undefined : true;
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
      revoked = false;
    }
    if (revoked === undefined) refuseOfflineSharedChange(config, "revoke a token");
    revoked ??= new TokenStore({ main: this.serverPaths.token, extra: this.serverPaths.tokens }).revoke(this.id);
    if (!revoked) throw new UsageError(`No token "${this.id}" (see "petit server token list")`);
    this.out(`Revoked enrollment token ${this.id}`);
    return 0;
  }
}
