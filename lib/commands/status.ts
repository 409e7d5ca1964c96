import { Command, Option } from "clipanion";
import { PetitCommand } from "./base.ts";
import { fetchClientStatus } from "./shared/client-status.ts";

/** `petit status`: the tunnel's state. */
export class StatusCommand extends PetitCommand {
  static override paths = [["status"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Show the tunnel's state",
    details: "Shows connected / connecting / retrying / error / stopped, the ID, relay port, public host, target, uptime, restart count and last error. Exit code 0 when connected, 3 otherwise.",
    examples: [["For scripts", "$0 status --json"]],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async execute(): Promise<number> {
    const config = this.readConfig().client;
    if (!config) return this.unconfigured();
    const status = await fetchClientStatus(config, this.clientPaths);
    const view = status ?? {
      state: "stopped", id: config.id, name: config.name, port: config.port, public_host: config.public_host, public_url: config.public_url,
      target: config.target, relay: config.relay, ssh_endpoint: undefined as string | undefined, restarts: 0, last_error: null, uptime_seconds: null,
      connected_since: null, next_retry_at: null, ssh_pid: null, pid: null,
    };
    if (this.json) {
      this.out(JSON.stringify(view, null, 2));
    } else {
      this.out(`state:       ${view.state}${view.next_retry_at && view.state !== "connected" ? ` (next try at ${view.next_retry_at})` : ""}`);
      this.out(`client:      ${view.id}${view.name ? ` (${view.name})` : ""} on relay ${view.relay}` +
        (view.ssh_endpoint && config.relays.length ? ` (tunnel through ${view.ssh_endpoint})` : ""));
      this.out(`public URL:  ${view.public_url}  →  ${view.target} (relay port ${view.port})`);
      if (view.uptime_seconds !== null) this.out(`uptime:      ${formatDuration(view.uptime_seconds)}`);
      this.out(`restarts:    ${view.restarts}`);
      if (view.last_error) this.out(`last error:  ${view.last_error}`);
      if (config.access_token) this.out(`visitors:    send "Proxy-Authorization: Bearer ${config.access_token}"`);
    }
    return view.state === "connected" ? 0 : 3;
  }

  /** No [client] section: a state like any other (exit 3), so scripts polling `status --json` get JSON. */
  unconfigured(): number {
    const message = `no [client] section in "${this.configFile}": run "petit register URL --token TOKEN" first`;
    if (this.json) this.out(JSON.stringify({ state: "unconfigured", config: this.configFile, message }, null, 2));
    else this.out(`state:       unconfigured (${message})`);
    return 3;
  }
}

/** Formats seconds as "2h 3m 4s". */
function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : "", h || m ? `${m}m` : "", `${s}s`].filter(Boolean).join(" ");
}
