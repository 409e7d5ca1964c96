import { Command, Option } from "clipanion";
import { parseRange } from "../../config/values.ts";
import type { ClientRow } from "../../protocol/server-control.ts";
import { clientRows } from "../../server/control/clients-view.ts";
import { openRegistry } from "../../server/store/open.ts";
import { PetitCommand } from "../base.ts";
import { formatTable } from "../shared/table.ts";

/** `petit server clients`: list registered clients. */
export class ServerClientsCommand extends PetitCommand {
  static override paths = [["server", "clients"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "List registered clients",
    details: "Shows each client's ID, name, port, key fingerprint, whether it is connected now, and when it was last seen; `--json` adds the proxy's counters since the relay started (requests, connections, bytes in and out, requests per second). Works with the relay down too (everyone then shows offline, counters zero).",
    examples: [["As JSON for scripts", "$0 server clients --json"]],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    const paths = this.serverPaths;
    let rows = await this.callServer<ClientRow[]>("/v1/clients");
    if (!rows) {
      const opened = await openRegistry(config.store, {
        file: paths.registry, authorizedKeys: paths.authorizedKeys, range: parseRange(config.port_range)!, readOnly: true, node: "petit server clients",
      }, () => undefined);
      rows = clientRows(opened.registry, undefined, config.domain, undefined, await opened.registry.presenceElsewhere());
      await opened.close();
    }
    if (this.json) {
      this.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      this.out("No clients registered yet.");
      return 0;
    }
    // Relays sharing a store: which one holds each tunnel.
    const relayColumn = config.store ? ["RELAY"] : [];
    this.out(formatTable(
      ["ID", "NAME", "PORT", "STATE", ...relayColumn, "LAST SEEN", "FINGERPRINT"],
      rows.map((r) => [
        String(r.id), r.name || "-", String(r.port), r.online ? "online" : "offline", ...(config.store ? [r.relay ?? "-"] : []),
        r.online ? (r.online_since ? `since ${r.online_since}` : "now") : r.last_seen ?? "never", r.fingerprint,
      ]),
    ));
    return 0;
  }
}
