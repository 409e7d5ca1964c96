import { Command, Option, UsageError } from "clipanion";
import { userInfo } from "node:os";
import { parseRange } from "../../config/values.ts";
import { portsOf } from "../../server/registry/registry.ts";
import { openRegistry } from "../../server/store/open.ts";
import { runningSshd } from "../../server/sshd/managed-sshd.ts";
import { systemSshdListener } from "../../server/sshd/system-sshd.ts";
import { endRevokedSessions } from "../../server/sshd/stale-ports.ts";
import { SessionSweeper } from "../../server/sshd/session-sweep.ts";
import { rootTunnelUser } from "../../server/sshd/tunnel-user.ts";
import { PetitCommand } from "../base.ts";

/** `petit server revoke`: remove a client and end its tunnel now. */
export class ServerRevokeCommand extends PetitCommand {
  static override paths = [["server", "revoke"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Revoke a client: remove its key and end its tunnel at once",
    details: "Removes the client (by ID or name) from the registry and authorized_keys, and ends its open SSH sessions, so its tunnel ports stop answering within a second. Its ports and names are held for a while before another client may get them. Its ID is never handed out again. Works whether the relay runs or not.",
    examples: [["Revoke client 1001", "$0 server revoke 1001"], ["By name", "$0 server revoke shop"]],
  });

  label = Option.String({ name: "ID-OR-NAME" });
  freeNames = Option.Boolean("--free-names", false, {
    description: "Let other clients take its names at once (by default they are held for 30 days)",
  });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    const paths = this.serverPaths;
    let result: { id: number; port: number; sessions_ended: number } | undefined;
    try {
      result = await this.callServer(`/v1/clients/${encodeURIComponent(this.label)}/revoke`, {
        method: "POST", body: { free_names: this.freeNames },
      });
    } catch (error) {
      if ((error as { status?: number }).status === 404) throw new UsageError((error as Error).message);
      throw error;
    }
    if (!result) {
      // The relay is down: we are the only writer. An sshd left running still gets its session ended.
      // With a shared store, the other relays see the revoke within a second and end the key's sessions there.
      const opened = await openRegistry(config.store, {
        file: paths.registry, authorizedKeys: paths.authorizedKeys, range: parseRange(config.port_range)!, node: "petit server revoke",
      }, () => undefined);
      const client = opened.registry.lookup(this.label);
      try {
        if (!client) throw new UsageError(`No client "${this.label}" is registered`);
        await opened.registry.revoke(client.id, { freeNames: this.freeNames });
      } finally {
        await opened.close();
      }
      const sshd = config.ssh_mode === "system" ? await systemSshdListener(config) : runningSshd(paths.sshdPid, paths.sshdConfig);
      const sweeper = new SessionSweeper({ sshdPid: () => sshd, tunnelUser: process.getuid?.() === 0 ? rootTunnelUser(config.tunnel_user) : userInfo().username, log: () => {} });
      result = { id: client.id, port: client.port, sessions_ended: sshd ? (await endRevokedSessions(portsOf(client), sshd, sweeper)).length : 0 };
    }
    if (this.json) this.out(JSON.stringify(result));
    else this.out(`Revoked client ${result.id} (port ${result.port}); ended ${result.sessions_ended} open session(s)`);
    return 0;
  }
}
