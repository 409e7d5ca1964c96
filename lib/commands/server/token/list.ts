import { Command, Option } from "clipanion";
import { TokenStore } from "../../../server/tokens/tokens.ts";
import { PetitCommand } from "../../base.ts";
import { formatTable } from "../../shared/table.ts";

/** `petit server token list`: enrollment tokens, without their secrets. */
export class ServerTokenListCommand extends PetitCommand {
  static override paths = [["server", "token", "list"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "List enrollment tokens (never their secrets)",
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    this.serverConfig();
    const tokens = new TokenStore({ main: this.serverPaths.token, extra: this.serverPaths.tokens }).list();
    if (this.json) {
      this.out(JSON.stringify(tokens, null, 2));
      return 0;
    }
    this.out(formatTable(["ID", "VALID", "EXPIRES", "USES LEFT", "LABEL"], tokens.map((t) => [
      t.id, t.valid ? "yes" : "no", t.expires ?? "never", t.uses_left === null ? "unlimited" : String(t.uses_left), t.label,
    ])));
    return 0;
  }
}
