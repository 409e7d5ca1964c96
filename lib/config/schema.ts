/**
 * The shape of config.toml: every key petit knows, its type and what a valid
 * value looks like (checked in values.ts). Anything else in the file is
 * refused by name.
 * @module
 */
import {
  ACME_RENEW_BEFORE_DAYS, DEFAULT_HTTPS_PORT, LETS_ENCRYPT_DIRECTORY,
  DEFAULT_API_PORT, DEFAULT_CLIENT_CONTROL_PORT, DEFAULT_HTTP_PORT, DEFAULT_PORT_RANGE,
  DEFAULT_SERVER_CONTROL_PORT, DEFAULT_SSH_PORT, DEFAULT_TARGET,
  SERVER_ALIVE_COUNT_MAX, SERVER_ALIVE_INTERVAL,
} from "../constants.ts";

/** The relay's settings, as `[server]` in config.toml. */
export interface ServerConfig {
  domain: string;
  listen: string;
  http_port: number;
  api_port: number;
  control_port: number;
  ssh_port: number;
  /** Host name clients use for ssh; empty: the host they registered through. */
  ssh_host: string;
  port_range: string;
  sshd_path: string;
  /** Account tunnels log in as; empty: "petit-tunnel" as root, else the current user. */
  tunnel_user: string;
  /** Source networks (CIDR) allowed to use any tunnel; empty: any. */
  allow_from: string[];
  /** Load balancers (CIDR) whose X-Forwarded-* headers the proxy believes. */
  trusted_proxies: string[];
  /** PEM certificate and key: the proxy and the API then speak HTTPS (reloaded on SIGHUP). */
  tls_cert: string;
  tls_key: string;
  /** Failed registration proofs per minute one source may make before 429 (0: no limit). */
  api_failures_per_minute: number;
  /** Seconds the proxy waits for a service's answer to begin before answering 504. */
  upstream_timeout: number;
  /** "managed": petit runs its own sshd; "system": petit adds a drop-in to the machine's sshd. */
  ssh_mode: "managed" | "system";
  /** Unauthenticated SSH connections one address may have open at once (sshd's PerSourceMaxStartups; managed mode). */
  ssh_max_startups_per_source: number;
  /** System mode: the machine's main sshd_config, which must Include the drop-in folder. */
  system_sshd_config: string;
  /** System mode: the folder petit's drop-in (50-petit.conf) goes to. */
  system_dropin_dir: string;
  /** System mode: the system sshd's pid file; empty: the PidFile its config names (reload then uses systemctl where systemd runs). */
  system_sshd_pid: string;
  /** System mode: where the system sshd logs ("journal" or a file; "none"); empty: the journal or /var/log/auth.log. */
  system_sshd_log: string;
  /** The proxy's access log, one JSON line per request: a path (relative: in the server folder); empty: none. */
  access_log: string;
  /** Connections from trusted_proxies begin with a PROXY protocol header (v1 or v2) naming the visitor. */
  proxy_protocol: boolean;
  /** Seconds: a request body slower than body_min_rate over this window gets 408. */
  body_timeout: number;
  /** Bytes a second a request body must average over each body_timeout window (0: only a silent window is too slow). */
  body_min_rate: number;
  /** Requests one visitor address may have in flight to one tunnel; more wait for their own. */
  requests_per_source: number;
  /** The store several relays share ("postgresql://USER@HOST:PORT/DB"); "" keeps the registry in this relay's files. */
  store: string;
  /** Where the other relays reach this one (HOST:PORT of its proxy); "" for the proxy's listen address and port. */
  node_address: string;
  /** Port of the HTTPS proxy when `acme` is set; http_port then answers ACME challenges and redirects to it. */
  https_port: number;
  /** `[server.acme]`: petit obtains and renews its certificates itself; absent: none (or tls_cert). */
  acme?: AcmeConfig;
}

/** Certificates from an ACME CA (Let's Encrypt), as `[server.acme]` in config.toml. */
export interface AcmeConfig {
  /** The account's contact address: the CA writes to it about expiring certificates and policy changes. */
  email: string;
  /** The CA's directory URL. */
  directory: string;
  /** A PEM file of an extra CA to trust when talking to the directory (a test CA such as pebble); "" for none. */
  ca_file: string;
  /** Days before expiry a certificate is renewed. */
  renew_before_days: number;
  /** After an order, the least seconds before the same certificate is ordered again. */
  check_interval: number;
  /**
   * A program that publishes DNS-01 TXT records ("add"/"remove" NAME VALUE); set, the relay orders one wildcard
   * certificate for `*.<domain>` and `<domain>` over DNS-01 instead of one per client over HTTP-01. "" for none.
   */
  dns_hook: string;
  /**
   * How the CA checks that the relay holds a name: "http-01" on the plain port (http_port) or "tls-alpn-01" on the
   * HTTPS port (https_port). A `dns_hook` overrides it (DNS-01).
   */
  challenge: AcmeChallenge;
}

/** The values of server.acme.challenge. */
export const ACME_CHALLENGES = ["http-01", "tls-alpn-01"] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];

/** The client's settings, as `[client]` in config.toml. */
export interface ClientConfig {
  relay: string;
  id: number;
  name: string;
  port: number;
  target: string;
  public_host: string;
  public_url: string;
  /** Visitors present it to the relay's proxy; shown by petit status. */
  access_token: string;
  control_port: number;
  ssh_host: string;
  ssh_port: number;
  ssh_user: string;
  ssh_path: string;
  keepalive_interval: number;
  keepalive_count: number;
  /** Seconds `petit up` waits for the tunnel before it reports failure. */
  up_timeout: number;
  /** Further services, all carried by the same ssh connection. */
  tunnel: TunnelConfig[];
  /** Other relays' SSH endpoints ("HOST:PORT"), sharing the relay's store: tried in turn when the one in use is gone. */
  relays: string[];
}

/** One further service of a client (`[[client.tunnel]]`). */
export interface TunnelConfig {
  name: string;
  target: string;
  /** Relay port, filled in by `petit register`. */
  port?: number;
}

/** A whole config file; either role may be absent. */
export interface PetitConfig {
  server?: ServerConfig;
  client?: ClientConfig;
}

type Kind = "email" | "boolean" | "choice" | "string" | "address" | "user" | "path" | "tunnels" | "cidrs" | "domain" | "port" | "integer" | "hostport" | "range" | "url" | "host" | "store" | "endpoints";

/** One key: its kind, default (absent → required) and what is expected, in words. */
export interface Field {
  kind: Kind;
  default?: boolean | string | number | string[] | TunnelConfig[];
  min?: number;
  max?: number;
  /** The values a "choice" may take. */
  choices?: readonly string[];
}

/** How each `[server]` key is checked (the `[server.acme]` table by acmeFields), and its default when it has one. */
export const serverFields: Record<Exclude<keyof ServerConfig, "acme">, Field> = {
  domain: { kind: "domain" },
  listen: { kind: "address", default: "0.0.0.0" },
  http_port: { kind: "port", default: DEFAULT_HTTP_PORT },
  api_port: { kind: "port", default: DEFAULT_API_PORT },
  control_port: { kind: "port", default: DEFAULT_SERVER_CONTROL_PORT },
  ssh_port: { kind: "port", default: DEFAULT_SSH_PORT },
  ssh_host: { kind: "host", default: "" },
  port_range: { kind: "range", default: `${DEFAULT_PORT_RANGE.first}-${DEFAULT_PORT_RANGE.last}` },
  sshd_path: { kind: "path", default: "" },
  tunnel_user: { kind: "user", default: "" },
  allow_from: { kind: "cidrs", default: [] },
  trusted_proxies: { kind: "cidrs", default: [] },
  tls_cert: { kind: "path", default: "" },
  tls_key: { kind: "path", default: "" },
  api_failures_per_minute: { kind: "integer", default: 60, min: 0, max: 1_000_000 },
  upstream_timeout: { kind: "integer", default: 300, min: 1, max: 86_400 },
  ssh_mode: { kind: "choice", default: "managed", choices: ["managed", "system"] },
  ssh_max_startups_per_source: { kind: "integer", default: 100, min: 1, max: 100_000 },
  system_sshd_config: { kind: "path", default: "/etc/ssh/sshd_config" },
  system_dropin_dir: { kind: "path", default: "/etc/ssh/sshd_config.d" },
  system_sshd_pid: { kind: "path", default: "" },
  system_sshd_log: { kind: "path", default: "" },
  access_log: { kind: "path", default: "" },
  proxy_protocol: { kind: "boolean", default: false },
  body_timeout: { kind: "integer", default: 60, min: 1, max: 3600 },
  body_min_rate: { kind: "integer", default: 240, min: 0, max: 1_000_000_000 },
  requests_per_source: { kind: "integer", default: 32, min: 1, max: 128 },
  store: { kind: "store", default: "" },
  node_address: { kind: "host", default: "" },
  https_port: { kind: "port", default: DEFAULT_HTTPS_PORT },
};

/** How each `[server.acme]` key is checked, and its default when it has one. */
export const acmeFields: Record<keyof AcmeConfig, Field> = {
  email: { kind: "email" },
  directory: { kind: "url", default: LETS_ENCRYPT_DIRECTORY },
  ca_file: { kind: "path", default: "" },
  renew_before_days: { kind: "integer", default: ACME_RENEW_BEFORE_DAYS, min: 1, max: 100_000 },
  check_interval: { kind: "integer", default: 12 * 3600, min: 1, max: 7 * 86_400 },
  dns_hook: { kind: "path", default: "" },
  challenge: { kind: "choice", default: "http-01", choices: ACME_CHALLENGES },
};

/** How each `[client]` key is checked, and its default when it has one. */
export const clientFields: Record<keyof ClientConfig, Field> = {
  relay: { kind: "url" },
  id: { kind: "integer", min: 1 },
  name: { kind: "string", default: "" },
  port: { kind: "port" },
  target: { kind: "hostport", default: DEFAULT_TARGET },
  public_host: { kind: "string", default: "" },
  public_url: { kind: "string", default: "" },
  access_token: { kind: "string", default: "" },
  control_port: { kind: "port", default: DEFAULT_CLIENT_CONTROL_PORT },
  ssh_host: { kind: "host" },
  ssh_port: { kind: "port" },
  ssh_user: { kind: "string" },
  ssh_path: { kind: "path", default: "ssh" },
  keepalive_interval: { kind: "integer", default: SERVER_ALIVE_INTERVAL, min: 1, max: 3600 },
  keepalive_count: { kind: "integer", default: SERVER_ALIVE_COUNT_MAX, min: 1, max: 100 },
  up_timeout: { kind: "integer", default: 20, min: 1, max: 3600 },
  tunnel: { kind: "tunnels", default: [] },
  relays: { kind: "endpoints", default: [] },
};

/** Returns the default of every field that has one. */
export function defaultsOf(fields: Record<string, Field>): Record<string, Field["default"]> {
  const out: Record<string, Field["default"]> = {};
  for (const [key, field] of Object.entries(fields)) if (field.default !== undefined) out[key] = field.default;
  return out;
}
