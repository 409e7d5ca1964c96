import { Command, Option, UsageError } from "clipanion";
import { writeSection } from "../../config/file.ts";
import { checkValue, defaultsOf, parseRange, serverFields, type ServerConfig } from "../../config/schema.ts";
import { ensureSecret } from "../../secrets.ts";
import { PetitCommand, portOption } from "../base.ts";

/** `petit server init`: write the relay's config and enrollment token. */
export class ServerInitCommand extends PetitCommand {
  static override paths = [["server", "init"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Configure this machine as a relay",
    details: `
      Writes the \`[server]\` section of config.toml and creates the enrollment token (kept 0600) that clients need to register. Running it again updates the settings and keeps the token.
    `,
    examples: [
      ["Set up a relay for *.relay.example.com", "$0 server init --domain relay.example.com"],
      ["Use unprivileged ports", "$0 server init --domain relay.example.com --http-port 8080 --port-range 20000-20999"],
    ],
  });

  domain = Option.String("--domain", { required: true, description: "Clients are reached at <id>.<domain>" });
  listen = Option.String("--listen", "0.0.0.0", { description: "Address the proxy, API and sshd listen on" });
  httpPort = Option.String("--http-port", { description: "Port of the Host-header proxy (default 80)" });
  apiPort = Option.String("--api-port", { description: "Port of the registration API (default 3014)" });
  controlPort = Option.String("--control-port", { description: "Loopback control port (default 3016)" });
  sshPort = Option.String("--ssh-port", { description: "Port of petit's sshd (default 2222)" });
  sshHost = Option.String("--ssh-host", { description: "Host name clients use for ssh (default: the host clients register through)" });
  portRange = Option.String("--port-range", { description: "Relay ports handed to clients (default 11000-11999)" });
  sshdPath = Option.String("--sshd-path", { description: "sshd binary (default: found in /usr/sbin)" });

  async execute(): Promise<number> {
    const previous = this.readConfig().server;
    const pick = <K extends keyof ServerConfig>(key: K): ServerConfig[K] =>
      (previous?.[key] ?? serverFields[key].default) as ServerConfig[K];
    const config: ServerConfig = {
      ...(defaultsOf(serverFields) as unknown as ServerConfig),
      ...previous,
      domain: this.domain.toLowerCase().replace(/\.$/, ""),
      listen: this.listen,
      http_port: portOption("--http-port", this.httpPort, pick("http_port")),
      api_port: portOption("--api-port", this.apiPort, pick("api_port")),
      control_port: portOption("--control-port", this.controlPort, pick("control_port")),
      ssh_port: portOption("--ssh-port", this.sshPort, pick("ssh_port")),
      ssh_host: this.sshHost ?? pick("ssh_host"),
      port_range: this.portRange ?? pick("port_range"),
      sshd_path: this.sshdPath ?? pick("sshd_path"),
    };
    if (checkValue(serverFields.domain, config.domain) || !config.domain.includes(".") && config.domain !== "localhost") {
      throw new UsageError(`--domain must be a DNS name such as "relay.example.com", got "${this.domain}"`);
    }
    if (!parseRange(config.port_range)) {
      throw new UsageError(`--port-range must look like "11000-11999" (first ≤ last, 1-65535), got "${config.port_range}"`);
    }
    writeSection(this.configFile, "server", config);
    ensureSecret(this.serverPaths.token);
    this.out(`Relay configured in ${this.configFile}`);
    this.out(`  clients reach their services at http://<id>.${config.domain}:${config.http_port}/`);
    this.out(`  registration API on port ${config.api_port}, sshd on port ${config.ssh_port}`);
    this.out(`Next: "petit server up", then on a client: petit register http://${config.domain}:${config.api_port} --token "$(petit server token)"`);
    return 0;
  }
}
