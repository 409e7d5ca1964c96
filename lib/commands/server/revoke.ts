import { Command, Option, UsageError } from "clipanion";
import { parseRange } from "../../config/schema.ts";
import { Registry } from "../../server/registry.ts";
import { runningSshd } from "../../server/sshd.ts";
import { systemSshdListener } from "../../server/system-sshd.ts";
import { endSessionsOnPort } from "../../server/stale-ports.ts";
import { PetitCommand } from "../base.ts";

/** `petit server revoke`: remove a client and end its tunnel now. */
export class ServerRevokeCommand extends PetitCommand {
  static override paths = [["server", "revoke"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Revoke a client: remove its key and end its tunnel at once",
    details: "Removes the client (by ID or name) from the registry and authorized_keys, and ends its open SSH session, so its tunnel port stops answering within a second. Its ID is never handed out again. Works whether the relay runs or not.",
    examples: [["Revoke client 1001", "$0 server revoke 1001"], ["By name", "$0 server revoke shop"]],
  });

  label = Option.String({ name: "ID-OR-NAME" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    const paths = this.serverPaths;
    let result: { id: number; port: number; sessions_ended: number } | undefined;
    try {
      result = await this.callServer(`/v1/clients/${encodeURIComponent(this.label)}/revoke`, { method: "POST" });
    } catch (error) {
      if ((error as { status?: number }).status === 404) throw new UsageError((error as Error).message);
      throw error;
    }
    if (!result) {
      // The relay is down: we are the only writer. An sshd left running still gets its session ended.
      const registry = Registry.open({ file: paths.registry, authorizedKeys: paths.authorizedKeys, range: parseRange(config.port_range)! });
      const client = registry.lookup(this.label);
      if (!client) throw new UsageError(`No client "${this.label}" is registered`);
      await registry.revoke(client.id);
      const sshd = config.ssh_mode === "system" ? await systemSshdListener(config) : runningSshd(paths.sshdPid, paths.sshdConfig);
      result = { id: client.id, port: client.port, sessions_ended: sshd ? endSessionsOnPort(client.port, sshd).length : 0 };
    }
    if (this.json) this.out(JSON.stringify(result));
    else this.out(`Revoked client ${result.id} (port ${result.port}); ended ${result.sessions_ended} open session(s)`);
    return 0;
  }
}
