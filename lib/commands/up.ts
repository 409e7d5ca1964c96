import { Command, Option } from "clipanion";
import { startClientDaemon } from "../client/daemon.ts";
import { logSize, logTail, runForeground } from "../daemon/run.ts";
import { spawnSelf } from "../daemon/self.ts";
import { PetitCommand, timestampedLog } from "./base.ts";
import { fetchClientStatus, UP_EXIT } from "./shared/client-status.ts";

/** `petit up`: start the client daemon and wait for the tunnel. */
export class UpCommand extends PetitCommand {
  static override paths = [["up"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Start the tunnel and wait until it is up",
    details: `
      Starts petit-clientd, which runs and supervises \`ssh -R\` to the relay, and returns once the tunnel is established. When it already runs and is connected, exits 0 (quietly with \`--quiet\`), so cron can run it every minute. A tunnel paused with \`petit pause\` stays paused, even across restarts of the daemon, until \`petit resume\`.

      Exit codes: 0 connected (or paused on purpose); 1 bad command or config, or the daemon could not start; 3 not connected within \`client.up_timeout\` seconds (the daemon keeps trying); 4 a person must act before the tunnel can work (the relay refused this client's key, its host key changed, or ssh cannot be run).
    `,
    examples: [["Start the tunnel", "$0 up"], ["From cron", "* * * * * $0 up --quiet"], ["Under systemd", "$0 up --foreground"]],
  });

  foreground = Option.Boolean("--foreground", false, { description: "Run in this process, logging to stderr" });
  quiet = Option.Boolean("--quiet,-q", false, { description: "Print nothing when already up" });

  async execute(): Promise<number> {
    const config = this.clientConfig();
    const paths = this.clientPaths;
    if (this.foreground) {
      const log = timestampedLog(this.context.stderr);
      return runForeground(() => startClientDaemon(config, paths, log, { configFile: this.configFile }), log);
    }
    let status = await fetchClientStatus(config, paths);
    // A pause is a person's decision: up (from cron, say) leaves it alone; "petit resume" ends it.
    if (status?.state === "paused") {
      if (!this.quiet) this.out(`Tunnel paused on purpose; "petit resume" brings it back`);
      return UP_EXIT.connected;
    }
    if (status?.state === "connected") {
      if (!this.quiet) this.out(`Tunnel already up: ${config.public_url} → ${config.target}`);
      return UP_EXIT.connected;
    }
    // Already running but not connected: wait with it rather than start another.
    const logFrom = logSize(paths.daemonLog);
    const child = status ? undefined
      : spawnSelf(["up", "--foreground", ...(this.configOption ? ["--config", this.configFile] : [])], paths.daemonLog);
    if (child && !this.quiet) this.err(`Starting petit-clientd (waiting up to ${config.up_timeout} s for the tunnel)…`);
    const deadline = Date.now() + config.up_timeout * 1000;
    for (;;) {
      if (child && child.exited() !== null) {
        this.err(`petit-clientd could not start: ${logTail(paths.daemonLog, logFrom) || `exit ${child.exited()}`}`);
        return 1;
      }
      status = await fetchClientStatus(config, paths).catch(() => undefined);
      if (status?.state === "connected") {
        if (!this.quiet) this.out(`Tunnel up: ${config.public_url} → ${config.target}`);
        return UP_EXIT.connected;
      }
      // The pause outlived the daemon (see "petit pause"): still a person's decision.
      if (status?.state === "paused") {
        if (!this.quiet) this.out(`petit-clientd is up; the tunnel stays paused on purpose: "petit resume" brings it back`);
        return UP_EXIT.connected;
      }
      // A refusal does not clear by waiting: report it at once.
      if (status?.state === "error" || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.err(`Tunnel not up: ${status?.last_error ?? "still connecting"}`);
    this.err(`petit-clientd keeps trying in the background; see "petit status" and ${paths.daemonLog}`);
    return status?.state === "error" ? UP_EXIT.refused : UP_EXIT.notYet;
  }
}
