import { Command, Option, UsageError } from "clipanion";
import { userInfo, hostname } from "node:os";
import { hostKeyChange, pinnedPeerKeys } from "../client/host-key-pin.ts";
import { checkRelayList } from "../client/relay-list-check.ts";
import { readAcceptedList, saveRelayList } from "../client/relay-state.ts";
import { registerAtRelay } from "../client/register.ts";
import { writeSection } from "../config/file.ts";
import { clientFields, defaultsOf, type ClientConfig, type TunnelConfig } from "../config/schema.ts";
import { expandTarget, parseHostPort } from "../config/values.ts";
import { DEFAULT_CLIENT_CONTROL_PORT, DEFAULT_TARGET } from "../constants.ts";
import { validateName } from "../names.ts";
import { ensureKeyPair } from "../ssh/keygen.ts";
import { pinHostKey } from "../ssh/known-hosts.ts";
import { parsePublicKey } from "../ssh/public-key.ts";
import { PetitCommand, portOption } from "./base.ts";

/** `petit register`: get an ID and a port from a relay. */
export class RegisterCommand extends PetitCommand {
  static override paths = [["register"]];
  static override usage = Command.Usage({
    category: "Client",
    description: "Register this machine with a relay",
    details: `
      Creates this client's SSH key (ed25519, 0600) if needed, registers it with the relay's API using the enrollment token, pins the relay's SSH host key, and writes the \`[client]\` section of config.toml. Running it again with the same key keeps the same ID and port.
    `,
    examples: [
      ["Expose a local web app on port 8080", "$0 register http://relay.example.com:3014 --token TOKEN"],
      ["Expose an ERP API under a name", "$0 register http://relay.example.com:3014 --token TOKEN --name erp --to 127.0.0.1:5000"],
    ],
  });

  url = Option.String({ name: "URL" });
  token = Option.String("--token", { env: "PETIT_TOKEN", description: "The relay's enrollment token (petit server token)" });
  name = Option.String("--name", { description: "A DNS label; the service is then also at <name>.<domain>" });
  to = Option.String("--to", { description: "Local service to expose, HOST:PORT or a port on this machine (default 127.0.0.1:8080)" });
  controlPort = Option.String("--control-port", { description: "Local command port of the client daemon (default 3015)" });
  tunnels = Option.Array("--tunnel", {
    description: "A further service NAME=HOST:PORT, reached at <NAME>.<domain> (repeatable; replaces the [[client.tunnel]] list)",
  });
  fingerprint = Option.String("--fingerprint", {
    description: "The relay's SSH host key fingerprint (SHA256:…), given out of band; a mismatch is refused. Needed to accept a key other than the one pinned",
  });
  json = Option.Boolean("--json", false, { description: "Print the registration as JSON" });

  async execute(): Promise<number> {
    if (!this.token) throw new UsageError("--token is required (ask the relay's operator for \"petit server token\")");
    let relay: URL;
    try {
      relay = new URL(this.url);
      if (relay.protocol !== "http:" && relay.protocol !== "https:") throw new Error();
    } catch {
      throw new UsageError(`URL must be the relay's API address such as "http://relay.example.com:3014", got "${this.url}"`);
    }
    const previous = this.readConfig().client;
    const target = this.to !== undefined ? expandTarget(this.to) : previous?.target ?? DEFAULT_TARGET;
    if (!parseHostPort(target)) throw new UsageError(`--to must be HOST:PORT such as "127.0.0.1:8080" (or a port alone), got "${this.to ?? target}"`);
    let name: string | undefined;
    try {
      name = this.name === undefined ? undefined : validateName(this.name);
    } catch (error) {
      throw new UsageError(`--name: ${(error as Error).message}`);
    }
    const tunnels = this.tunnels ? this.tunnels.map(parseTunnelFlag) : previous?.tunnel ?? [];
    const paths = this.clientPaths;
    const publicKey = await ensureKeyPair(paths.key, `petit@${hostname()}`);
    const answer = await registerAtRelay(relay.origin, this.token, { publicKey, keyFile: paths.key, name, tunnels: tunnels.map((t) => t.name) });
    const hostKey = parsePublicKey(answer.ssh.host_key);
    if (this.fingerprint && this.fingerprint.replace(/=+$/, "") !== hostKey.fingerprint) {
      throw new UsageError(
        `The relay's SSH host key is ${hostKey.fingerprint}, not ${this.fingerprint} as given with --fingerprint: ` +
          "refusing to trust it (someone may be intercepting the connection, or the fingerprint is outdated). Nothing was saved.",
      );
    }
    const changed = hostKeyChange({ knownHosts: paths.knownHosts, offered: hostKey, fingerprint: this.fingerprint, relay: relay.origin });
    if (changed) throw new UsageError(changed);
    // Relays sharing the store: their keys are pinned too, so the tunnel may move there, but only from a list signed with
    // the key just pinned for this relay. A list refused (unsigned, forged, stale) changes nothing: the relays known before stay.
    const primary = { host: answer.ssh.host || relay.hostname.replace(/^\[|\]$/g, ""), port: answer.ssh.port };
    const outcome = await checkRelayList(answer.relay_list, { signerKey: hostKey, previous: readAcceptedList(paths.relayList)?.list });
    let relays = previous?.relays ?? [];
    if (outcome.list) {
      relays = saveRelayList({ listFile: paths.relayList, knownHosts: paths.knownHosts, primary, primaryKey: answer.ssh.host_key }, answer.relay_list!, outcome.list);
    } else {
      // A relay of an earlier petit sends no list at all: nothing was offered, nothing to say. Anything else offered is refused aloud.
      const offered = answer.relay_list !== undefined || "relays" in answer;
      if (offered) this.err(`Relay list refused: ${outcome.refused}. The relays known before are kept${relays.length ? ` (${relays.join(", ")})` : ""}.`);
      pinHostKey(paths.knownHosts, answer.ssh.host_key, pinnedPeerKeys(paths.knownHosts));
    }
    const config: ClientConfig = {
      ...(defaultsOf(clientFields) as unknown as ClientConfig),
      ...previous,
      relay: relay.origin,
      id: answer.id,
      name: answer.name,
      port: answer.port,
      target,
      public_host: answer.public_host,
      public_url: answer.public_url,
      access_token: answer.access_token ?? "",
      tunnel: tunnels.map(({ name, target }) => ({ name, target, port: answer.tunnels?.find((a) => a.name === name)?.port ?? 0 }))
        .filter((t) => t.port),
      control_port: portOption("--control-port", this.controlPort, previous?.control_port ?? DEFAULT_CLIENT_CONTROL_PORT),
      ssh_host: answer.ssh.host || relay.hostname.replace(/^\[|\]$/g, ""),
      ssh_port: answer.ssh.port,
      ssh_user: answer.ssh.user,
      relays,
    };
    writeSection(this.configFile, "client", config);
    if (this.json) {
      this.out(JSON.stringify({ id: config.id, name: config.name, port: config.port, public_host: config.public_host, public_url: config.public_url, target }, null, 2));
      return 0;
    }
    this.out(`Registered as client ${answer.id}${answer.name ? ` (${answer.name})` : ""} with relay ${relay.origin}`);
    this.out(`  public URL: ${answer.public_url}  →  ${target} (relay port ${answer.port})`);
    for (const t of answer.tunnels ?? []) {
      this.out(`  tunnel ${t.name}: ${t.public_url}  →  ${tunnels.find((c) => c.name === t.name)?.target} (relay port ${t.port})`);
    }
    this.out(`  relay SSH host key: ${hostKey.fingerprint} (pinned${this.fingerprint ? ", matches --fingerprint" : ""})`);
    if (relays.length) this.out(`  other relays, used when this one is gone: ${config.relays.join(", ")} (their host keys pinned too)`);
    this.out(`  visitors send: Proxy-Authorization: Bearer ${config.access_token}  (unless the relay makes this client public)`);
    this.out(`Next: "petit up" starts the tunnel (running as ${userInfo().username}).`);
    return 0;
  }
}

/** Parses a --tunnel value "NAME=HOST:PORT". */
function parseTunnelFlag(value: string): TunnelConfig {
  const [name, given = ""] = value.split("=", 2);
  const target = expandTarget(given);
  try {
    validateName(name);
  } catch (error) {
    throw new UsageError(`--tunnel "${value}": ${(error as Error).message}`);
  }
  if (!parseHostPort(target)) throw new UsageError(`--tunnel must be NAME=HOST:PORT such as "db=127.0.0.1:5432" (or NAME=PORT), got "${value}"`);
  return { name: name.toLowerCase(), target };
}
