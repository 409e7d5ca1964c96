import { Command, Option, UsageError } from "clipanion";
import type { CallOptions } from "../../daemon/control-client.ts";
import type { AccessView, SignInLinkView } from "../../protocol/server-control.ts";
import { PetitCommand } from "../base.ts";

/** `petit server access`: show or change who may reach a client's service. */
export class ServerAccessCommand extends PetitCommand {
  static override paths = [["server", "access"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Show or change a client's visitor access (token, public, source networks)",
    details: `
      Visitors reach a client's service through the proxy with its access token, as \`Proxy-Authorization: Bearer TOKEN\` (or \`Basic\` with the token as password, or \`X-Petit-Token: TOKEN\`); petit removes it before the request goes on, so the service's own \`Authorization\` header passes untouched. Without this option set, every client needs its token.

      \`--rotate\` makes a new token (the old one stops working at once, and every browser signed in with it is signed out); \`--public\` lets anyone in without a token; \`--allow-from\` limits visitors to source networks (CIDR, comma-separated; "" for any). Needs the relay running.

      A person opens a private client's URL in a browser and signs in there with the token (HTTPS only). \`--link\` prints a sign-in link instead: it works once, for 10 minutes, and signs the browser in without the token.
    `,
    examples: [
      ["Show client 1001's token", "$0 server access 1001"],
      ["Rotate it", "$0 server access 1001 --rotate"],
      ["Make a public website", "$0 server access shop --public"],
      ["Only the office network", "$0 server access erp --allow-from 203.0.113.0/24"],
      ["A single-use browser sign-in link", "$0 server access erp --link"],
    ],
  });

  label = Option.String({ name: "ID-OR-NAME" });
  rotate = Option.Boolean("--rotate", false, { description: "Replace the access token" });
  public = Option.Boolean("--public", { description: "No token needed (--no-public to require it again)" });
  allowFrom = Option.String("--allow-from", { description: "Source networks allowed, CIDR, comma-separated" });
  link = Option.Boolean("--link", false, { description: "Print a single-use browser sign-in link (expires in 10 minutes)" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    this.serverConfig(); // a bad config fails here, before anything else
    const change = {
      ...(this.rotate ? { rotate: true } : {}),
      ...(this.public === undefined ? {} : { public: this.public }),
      ...(this.allowFrom === undefined ? {} : { allow_from: this.allowFrom.split(",").map((s) => s.trim()).filter(Boolean) }),
    };
    const path = `/v1/clients/${encodeURIComponent(this.label)}`;
    const access = await this.#call<AccessView>(`${path}/access`, Object.keys(change).length ? { method: "POST", body: change } : {});
    // After the change: a link made with --rotate is bound to the new token.
    const link = this.link ? await this.#call<SignInLinkView>(`${path}/sign-in-link`, { method: "POST", body: {} }) : undefined;
    if (this.json) {
      this.out(JSON.stringify(link ? { ...access, sign_in_link: { url: link.url, expires_at: link.expires_at } } : access, null, 2));
      return 0;
    }
    this.out(`client ${access.id}${access.name ? ` (${access.name})` : ""}: ${access.public ? "public (no token needed)" : "token required"}`);
    this.out(`  token:      ${access.token}`);
    this.out(`  allow from: ${access.allow_from.length ? access.allow_from.join(", ") : "any source"}`);
    if (link) this.out(`  sign-in link (works once, until ${link.expires_at}): ${link.url}`);
    return 0;
  }

  /** Calls the relay's control port; its 4xx answers are the user's to fix (no stack trace). */
  async #call<T>(path: string, init: CallOptions): Promise<T> {
    let answer: T | undefined;
    try {
      answer = await this.callServer<T>(path, init);
    } catch (error) {
      if ((error as { status?: number }).status !== undefined && (error as { status: number }).status < 500) {
        throw new UsageError((error as Error).message);
      }
      throw error;
    }
    if (!answer) throw new UsageError('The relay is not running: start it with "petit server up"');
    return answer;
  }
}
