import { Command, Option } from "clipanion";
import { readFileSync } from "node:fs";
import type { ServerStatus } from "../../protocol/server-control.ts";
import { parsePublicKey } from "../../ssh/public-key.ts";
import { runForeground, startInBackground } from "../../daemon/run.ts";
import { startServerDaemon } from "../../server/daemon.ts";
import { systemHostKey } from "../../server/sshd/system-sshd.ts";
import { PetitCommand, timestampedLog } from "../base.ts";

/** `petit server up`: start petit-serverd. */
export class ServerUpCommand extends PetitCommand {
  static override paths = [["server", "up"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Start the relay (API, proxy, control port and sshd)",
    details: `
      Starts petit-serverd in the background and returns once the registration API, the proxy, the control port and sshd all listen. When it already runs, says so and exits 0. With \`--foreground\` it runs in this process and logs to stderr (for systemd).
    `,
    examples: [["Start the relay", "$0 server up"], ["Run under systemd", "$0 server up --foreground"]],
  });

  foreground = Option.Boolean("--foreground", false, { description: "Run in this process, logging to stderr" });
  quiet = Option.Boolean("--quiet,-q", false, { description: "Print nothing when already running" });

  async execute(): Promise<number> {
    const config = this.serverConfig();
    const paths = this.serverPaths;
    if (this.foreground) {
      const log = timestampedLog(this.context.stderr);
      return runForeground(() => startServerDaemon(config, paths, log), log).catch((error: Error) => {
        // "petit server up" shows the last lines of this log as the reason: end with the message, not a stack trace.
        log(`${error.stack}\npetit-serverd cannot start: ${error.message}`);
        return 1;
      });
    }
    const status = () => this.callServer<ServerStatus>("/v1/status");
    // The control port answers while sshd, the API and the proxy are still starting (and may fail): wait for ready.
    const probe = async () => {
      const now = await status();
      return now && now.ready !== false ? { ready: true as const } : { ready: false as const };
    };
    if (await status()) {
      if (!this.quiet) this.out("petit-serverd is already running");
      return 0;
    }
    const args = ["server", "up", "--foreground", ...(this.configOption ? ["--config", this.configFile] : [])];
    const result = await startInBackground({ args, logFile: paths.daemonLog, probe, timeoutMs: 20_000 });
    if (!result.ok) {
      this.err(`petit-serverd did not start: ${result.reason}`);
      this.err(`(full log: ${paths.daemonLog})`);
      return 1;
    }
    if (!this.quiet) {
      const proxy = config.acme ? `HTTPS proxy on :${config.https_port} (certificates by ACME; :${config.http_port} redirects)` : `proxy on :${config.http_port}`;
      this.out(`petit-serverd started (pid ${result.pid}): ${proxy}, API on :${config.api_port}, sshd on :${config.ssh_port}`);
      const line = config.ssh_mode === "system" ? await systemHostKey(config) : readFileSync(`${paths.hostKey}.pub`, "utf8");
      const hostKey = parsePublicKey(line.trim());
      this.out(`SSH host key: ${hostKey.fingerprint} (clients can check it with petit register --fingerprint)`);
    }
    return 0;
  }
}
