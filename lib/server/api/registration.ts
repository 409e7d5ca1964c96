/**
 * What a registration says and what the relay answers: the request body is
 * parsed and checked here, the answer built from the client's record. Pure.
 * @module
 */
import { MAX_TUNNELS_PER_CLIENT } from "../../constants.ts";
import { validateName } from "../../names.ts";
import type { RegistrationAnswer } from "../../protocol/registration.ts";
import type { SignedRelayList } from "../../protocol/relay-list.ts";
import { parsePublicKey, type PublicKey } from "../../ssh/public-key.ts";
import { RegistrationError, type ClientRecord } from "../registry/registry.ts";

/** What the API tells a client about how to reach the relay's sshd. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  hostKey: string;
}

/** Where the answer's URLs and SSH details come from. */
export interface AnswerContext {
  ssh: SshEndpoint;
  domain: string;
  httpPort: number;
  tls?: unknown;
  /** Every relay sharing the store (this one alone when there is none), signed with this relay's host key. */
  relayList?: SignedRelayList;
}

/** Returns the client's answer for `client`. */
export function registrationAnswer(client: ClientRecord, options: AnswerContext): RegistrationAnswer {
  const host = `${client.id}.${options.domain}`;
  return {
    id: client.id,
    name: client.name,
    port: client.port,
    public_host: host,
    public_url: publicUrl(host, options.httpPort, Boolean(options.tls)),
    tunnels: (client.tunnels ?? []).map((t) => {
      const tunnelHost = `${t.name}.${options.domain}`;
      return { ...t, public_host: tunnelHost, public_url: publicUrl(tunnelHost, options.httpPort, Boolean(options.tls)) };
    }),
    access_token: client.access.token,
    ssh: { host: options.ssh.host, port: options.ssh.port, user: options.ssh.user, host_key: options.ssh.hostKey },
    ...(options.relayList ? { relay_list: options.relayList } : {}),
  };
}

/** Returns the URL visitors use for `host`, leaving out the scheme's default port. */
function publicUrl(host: string, port: number, https: boolean): string {
  const defaultPort = https ? 443 : 80;
  return `${https ? "https" : "http"}://${host}${port === defaultPort ? "" : `:${port}`}/`;
}

/** Parses and validates a registration body; throws RegistrationError with the reason. */
export function parseRegistration(body: string): { key: PublicKey; name?: string; tunnels: string[] } {
  const data = parseJsonObject(body, '{"public_key": "ssh-ed25519 AAAA…", "name": "optional"}');
  const { public_key, name, tunnels = [], ...rest } = data;
  const extra = Object.keys(rest);
  if (extra.length) throw new RegistrationError(`unknown field "${extra[0].slice(0, 40)}" (expected public_key, name, tunnels)`);
  if (!Array.isArray(tunnels) || tunnels.length > MAX_TUNNELS_PER_CLIENT) {
    throw new RegistrationError(`tunnels must be a list of at most ${MAX_TUNNELS_PER_CLIENT} names`);
  }
  try {
    return {
      key: parsePublicKey(public_key),
      name: name === undefined || name === "" ? undefined : validateName(name),
      tunnels: tunnels.map(validateName),
    };
  } catch (error) {
    throw new RegistrationError((error as Error).message);
  }
}

/** Parses `body` as a JSON object; throws a RegistrationError showing `example` otherwise. */
export function parseJsonObject(body: string, example: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new RegistrationError(`body must be JSON: ${example}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new RegistrationError("body must be a JSON object");
  return data as Record<string, unknown>;
}
