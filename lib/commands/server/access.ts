import { Command, Option, UsageError } from "clipanion";
import type { AccessView } from "../../protocol/server-control.ts";
import { PetitCommand } from "../base.ts";

/** `petit server access`: show or change who may reach a client's service. */
export class ServerAccessCommand extends PetitCommand {
  static override paths = [["server", "access"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Show or change a client's visitor access (token, public, source networks)",
    details: `
      Visitors reach a client's service through the proxy with its access token, as \`Proxy-Authorization: Bearer TOKEN\` (or \`Basic\` with the token as password, or \`X-Petit-Token: TOKEN\`); petit removes it before the request goes on, so the service's own \`Authorization\` header passes untouched. Without this option set, every client needs its token.

      \`--rotate\` makes a new token (the old one stops working at once); \`--public\` lets anyone in without a token; \`--allow-from\` limits visitors to source networks (CIDR, comma-separated; "" for any). Needs the relay running.
    `,
    examples: [
      ["Show client 1001's token", "$0 server access 1001"],
      ["Rotate it", "$0 server access 1001 --rotate"],
      ["Make a public website", "$0 server access shop --public"],
      ["Only the office network", "$0 server access erp --allow-from 203.0.113.0/24"],
    ],
  });

  label = Option.String({ name: "ID-OR-NAME" });
  rotate = Option.Boolean("--rotate", false, { description: "Replace the access token" });
  public = Option.Boolean("--public", { description: "No token needed (--no-public to require it again)" });
  allowFrom = Option.String("--allow-from", { description: "Source networks allowed, CIDR, comma-separated" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    this.serverConfig(); // a bad config fails here, before anything else
    const change = {
      ...(this.rotate ? { rotate: true } : {}),
      ...(this.public === undefined ? {} : { public: this.public }),
      ...(this.allowFrom === undefined ? {} : { allow_from: this.allowFrom.split(",").map((s) => s.trim()).filter(Boolean) }),
    };
    const path = `/v1/clients/${encodeURIComponent(this.label)}/access`;
    let access: AccessView | undefined;
    try {
      access = await this.callServer<AccessView>(path, Object.keys(change).length ? { method: "POST", body: change } : {});
    } catch (error) {
      if ((error as { status?: number }).status !== undefined && (error as { status: number }).status < 500) {
        throw new UsageError((error as Error).message);
      }
      throw error;
    }
    if (!access) throw new UsageError('The relay is not running: start it with "petit server up"');
    if (this.json) {
      this.out(JSON.stringify(access, null, 2));
      return 0;
    }
    this.out(`client ${access.id}${access.name ? ` (${access.name})` : ""}: ${access.public ? "public (no token needed)" : "token required"}`);
    this.out(`  token:      ${access.token}`);
    this.out(`  allow from: ${access.allow_from.length ? access.allow_from.join(", ") : "any source"}`);
    return 0;
  }
}
