import { Command, Option, UsageError } from "clipanion";
import { resolve } from "node:path";
import { writeSection } from "../../config/file.ts";
import { acmeFields, defaultsOf, serverFields, type AcmeChallenge, type AcmeConfig, type ServerConfig } from "../../config/schema.ts";
import { checkValue, parseRange } from "../../config/values.ts";
import { ensureSecret } from "../../secrets.ts";
import { SSH_MODES, type SshMode } from "../../server/sshd/backend.ts";
import { setUpSystemSshd } from "../../server/sshd/system-sshd.ts";
import { PetitCommand, portOption } from "../base.ts";

/** Returns `[server.acme]` from the ACME flags over `previous`; undefined when ACME is neither asked for nor configured. */
function acmeSettings(
  flags: { email?: string; directory?: string; caFile?: string; dnsHook?: string; challenge?: string }, previous: AcmeConfig | undefined,
): AcmeConfig | undefined {
  if (!flags.email && !previous) {
    if (flags.directory || flags.caFile || flags.dnsHook || flags.challenge) {
      throw new UsageError("--acme-directory, --acme-ca-file, --acme-dns-hook and --acme-challenge need --acme-email (the ACME account's contact address)");
    }
    return undefined;
  }
  return {
    ...(defaultsOf(acmeFields) as unknown as AcmeConfig),
    ...previous,
    ...(flags.email ? { email: flags.email } : {}),
    ...(flags.directory ? { directory: flags.directory } : {}),
    // Absolute: petit-serverd may run from another folder (systemd).
    ...(flags.caFile !== undefined ? { ca_file: flags.caFile && resolve(flags.caFile) } : {}),
    ...(flags.dnsHook !== undefined ? { dns_hook: flags.dnsHook && resolve(flags.dnsHook) } : {}),
    ...(flags.challenge ? { challenge: flags.challenge as AcmeChallenge } : {}),
  };
}

/** How the CA will check the relay's names, for init's summary. */
function challengeText(config: ServerConfig): string {
  const redirects = `port ${config.http_port} redirects to HTTPS`;
  if (config.acme!.dns_hook) return `DNS-01 through "${config.acme!.dns_hook}", one wildcard certificate; ${redirects}`;
  if (config.acme!.challenge === "tls-alpn-01") return `TLS-ALPN-01 on port ${config.https_port}, which must be reachable from the internet; ${redirects}`;
  return `HTTP-01 on port ${config.http_port}, which must be reachable from the internet and otherwise redirects to HTTPS`;
}

/** `petit server init`: write the relay's config and enrollment token. */
export class ServerInitCommand extends PetitCommand {
  static override paths = [["server", "init"]];
  static override usage = Command.Usage({
    category: "Relay",
    description: "Configure this machine as a relay",
    details: `
      Writes the \`[server]\` section of config.toml and creates the enrollment token (kept 0600) that clients need to register. Running it again updates the settings and keeps the token.

      With \`--ssh-mode system\` tunnels use this machine's own sshd (port 22) instead of one petit runs: petit creates the tunnel account, adds \`50-petit.conf\` (a \`Match User\` block for that account only) to \`server.system_dropin_dir\`, checks the whole config with \`sshd -t\`, and reloads sshd; a config sshd refuses is rolled back. The main config (\`server.system_sshd_config\`) must Include that folder. \`petit server uninstall-sshd\` takes it out again.
    `,
    examples: [
      ["Set up a relay for *.relay.example.com, with HTTPS from Let's Encrypt", "$0 server init --domain relay.example.com --acme-email ops@example.com"],
      ["HTTPS from Let's Encrypt, validated on the HTTPS port (when the CA cannot reach port 80)", "$0 server init --domain relay.example.com --acme-email ops@example.com --acme-challenge tls-alpn-01"],
      ["Plain HTTP only (certificates are someone else's job)", "$0 server init --domain relay.example.com"],
      ["Use unprivileged ports", "$0 server init --domain relay.example.com --http-port 8080 --port-range 20000-20999"],
      ["Let tunnels use this machine's sshd on port 22", "$0 server init --domain relay.example.com --ssh-mode system"],
      ["One of several relays sharing a PostgreSQL store", "$0 server init --domain relay.example.com --store postgresql://petit@db.internal:5432/petit --node-address 10.0.0.2:80"],
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
  sshMode = Option.String("--ssh-mode", { description: "managed: petit runs its own sshd (default); system: configure this machine's sshd" });
  store = Option.String("--store", {
    description: "PostgreSQL URL of the registry several relays share (postgresql://USER@HOST:PORT/DB); \"\" for this relay's files (default)",
  });
  nodeAddress = Option.String("--node-address", { description: "HOST:PORT where the other relays reach this one's proxy (with --store)" });
  acmeEmail = Option.String("--acme-email", { description: "Get certificates from an ACME CA (Let's Encrypt) with this contact address; turns HTTPS on" });
  acmeDirectory = Option.String("--acme-directory", { description: "ACME directory URL (default Let's Encrypt production; with --acme-email)" });
  acmeCaFile = Option.String("--acme-ca-file", { description: "PEM file of an extra CA to trust for the ACME directory (a test CA; with --acme-email)" });
  acmeDnsHook = Option.String("--acme-dns-hook", { description: "Program that publishes DNS-01 TXT records (add|remove NAME VALUE): one wildcard certificate instead of one per client" });
  acmeChallenge = Option.String("--acme-challenge", {
    description: "How the CA checks the names: http-01 on --http-port (default) or tls-alpn-01 on --https-port (with --acme-email)",
  });
  httpsPort = Option.String("--https-port", { description: "Port of the HTTPS proxy with ACME (default 443); --http-port then redirects to it" });

  async execute(): Promise<number> {
    const previous = this.readConfig().server;
    const pick = <K extends keyof typeof serverFields>(key: K): ServerConfig[K] =>
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
      ssh_mode: (this.sshMode ?? pick("ssh_mode")) as SshMode,
      store: this.store ?? pick("store"),
      node_address: this.nodeAddress ?? pick("node_address"),
      https_port: portOption("--https-port", this.httpsPort, pick("https_port")),
      acme: acmeSettings({ email: this.acmeEmail, directory: this.acmeDirectory, caFile: this.acmeCaFile, dnsHook: this.acmeDnsHook, challenge: this.acmeChallenge }, previous?.acme),
    };
    if (config.acme && config.tls_cert) {
      throw new UsageError(`--acme-email cannot be used while server.tls_cert is set ("${config.tls_cert}"): remove server.tls_cert and server.tls_key from "${this.configFile}" first`);
    }
    if (checkValue(serverFields.domain, config.domain) || !config.domain.includes(".") && config.domain !== "localhost") {
      throw new UsageError(`--domain must be a DNS name such as "relay.example.com", got "${this.domain}"`);
    }
    if (!parseRange(config.port_range)) {
      throw new UsageError(`--port-range must look like "11000-11999" (first ≤ last, 1-65535), got "${config.port_range}"`);
    }
    if (!SSH_MODES.includes(config.ssh_mode)) {
      throw new UsageError(`--ssh-mode must be "managed" or "system", got "${config.ssh_mode}"`);
    }
    // Every value, as config load would check it: a line break in --listen would otherwise reach sshd_config.
    for (const [key, field] of Object.entries(serverFields)) {
      const value = config[key as keyof ServerConfig];
      const expected = checkValue(field, value);
      if (expected) throw new UsageError(`Cannot use server.${key} ${JSON.stringify(value)}: expected ${expected}`);
    }
    for (const [key, field] of Object.entries(config.acme ? acmeFields : {})) {
      const value = config.acme![key as keyof AcmeConfig];
      const expected = checkValue(field, value);
      if (expected) throw new UsageError(`Cannot use server.acme.${key} ${JSON.stringify(value)}: expected ${expected}`);
    }
    if (config.ssh_mode === "system") {
      // Before anything is written: a config sshd refuses leaves config.toml as it was.
      const system = await setUpSystemSshd(config, this.serverPaths, (line) => this.out(line)).catch((error: Error) => {
        // The machine's sshd config or this machine's rights are the user's to fix: no stack trace.
        throw new UsageError(error.message);
      });
      // Clients are told the port the system sshd listens on, unless one was chosen (a NAT in front, say).
      if (this.sshPort === undefined && previous?.ssh_mode !== "system") config.ssh_port = system.port;
      this.out(`System sshd: "${system.dropIn}" confines the tunnel account "${system.user}"; sshd checked it and runs with it`);
    }
    if (config.store) {
      // Checked now, not at the first "server up": the URL, the rights, and the schema (created or brought up to date).
      // Loaded only here: the PostgreSQL driver is not part of every command's start-up.
      const { PgStore } = await import("../../server/store/pg-store.ts");
      const { SCHEMA_VERSION } = await import("../../server/store/schema.ts");
      const store = await PgStore.open(config.store, (line) => this.out(line)).catch((error: Error) => {
        throw new UsageError(`${error.message} (check --store: host, port, user, database, and that PostgreSQL accepts this relay)`);
      });
      this.out(`Shared store ${store.where}: reachable, schema version ${SCHEMA_VERSION}`);
      await store.close();
    }
    writeSection(this.configFile, "server", config);
    if (config.ssh_mode === "managed" && previous?.ssh_mode === "system") {
      this.out('Note: the system sshd still has petit\'s drop-in; "petit server uninstall-sshd" takes it out');
    }
    ensureSecret(this.serverPaths.token);
    const scheme = config.acme ? "https" : "http";
    const proxyPort = config.acme ? config.https_port : config.http_port;
    this.out(`Relay configured in ${this.configFile}`);
    this.out(`  clients reach their services at ${scheme}://<id>.${config.domain}${proxyPort === (config.acme ? 443 : 80) ? "" : `:${proxyPort}`}/`);
    if (config.acme) {
      this.out(`  certificates from ${config.acme.directory} (${challengeText(config)})`);
    }
    this.out(`  registration API on port ${config.api_port}, sshd on port ${config.ssh_port}`);
    this.out(`Next: "petit server up", then on a client: petit register ${scheme}://${config.domain}:${config.api_port} --token "$(petit server token)"`);
    return 0;
  }
}
