/**
 * The registration ("backchannel") API: a client proves the enrollment token,
 * sends its public key and gets its ID, port and the relay's SSH details.
 * @module
 */
import type { Server } from "node:http";
import { createWebServer } from "../http/server.ts";
import { readBody, sendJson } from "../http/body.ts";
import { validateName } from "../names.ts";
import { proofTokenId, type ProofChecker } from "../proof.ts";
import { PROOF_HEADER } from "../constants.ts";
import { parsePublicKey } from "../ssh/public-key.ts";
import { RateLimiter } from "./rate-limit.ts";
import { RegistrationError, type ClientRecord, type Registry } from "./registry.ts";

/** What the API tells a client about how to reach the relay's sshd. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  hostKey: string;
}

/** Settings of the registration API. */
export interface ApiOptions {
  registry: Registry;
  proof: ProofChecker;
  /** Called after a registration that created a client, with the id of the token that allowed it. */
  onEnrolled?: (tokenId: string) => void;
  ssh: SshEndpoint;
  domain: string;
  /** Port of the HTTP proxy, to give clients their full public URL. */
  httpPort: number;
  /** Failed proofs one source address may make per minute before it gets 429 (0: no limit). */
  failuresPerMinute?: number;
  /** Serve HTTPS with this key and certificate (PEM); the proxy then speaks HTTPS too. */
  tls?: { cert: string; key: string };
  log: (line: string) => void;
}

/** The JSON a successful registration answers with. */
export interface RegistrationAnswer {
  id: number;
  name: string;
  port: number;
  public_host: string;
  public_url: string;
  /** Further services of the client, on the same ssh connection. */
  tunnels: { name: string; port: number; public_host: string; public_url: string }[];
  /** Visitors present it to the proxy (Proxy-Authorization: Bearer …) unless the client is public. */
  access_token: string;
  ssh: { host: string; port: number; user: string; host_key: string };
}

const MAX_BODY = 64 * 1024;
const MAX_TUNNELS = 16;

/** Returns the client's answer for `client`. */
export function registrationAnswer(
  client: ClientRecord, options: Pick<ApiOptions, "ssh" | "domain" | "httpPort" | "tls">,
): RegistrationAnswer {
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
  };
}

/** Returns the URL visitors use for `host`, leaving out the scheme's default port. */
function publicUrl(host: string, port: number, https: boolean): string {
  const defaultPort = https ? 443 : 80;
  return `${https ? "https" : "http"}://${host}${port === defaultPort ? "" : `:${port}`}/`;
}

/** Creates (but does not start) the registration API server. */
export function createApiServer(options: ApiOptions): Server {
  const limit = options.failuresPerMinute ?? 60;
  // blocked() holds once a source has failed `limit` times: the next request gets 429.
  const failures = new RateLimiter(limit - 1, 60_000);
  const server = createWebServer({ headersTimeout: 10_000, requestTimeout: 15_000 }, options.tls, async (req, res) => {
    const source = req.socket.remoteAddress ?? "";
    try {
      if (limit > 0 && failures.blocked(source)) {
        res.setHeader("retry-after", String(failures.retryAfter(source)));
        return sendJson(res, 429, { error: `too many failed registrations from ${source}; retry later` });
      }
      if (req.method === "GET" && req.url === "/v1/health") return sendJson(res, 200, { ok: true });
      if (req.url !== "/v1/register") return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${req.url}` });
      if (req.method !== "POST") return sendJson(res, 405, { error: "use POST /v1/register" });
      if (Number(req.headers["content-length"]) > MAX_BODY) {
        // Answer before reading and close: reading past the limit ends in a reset, and the client never sees the 413.
        res.setHeader("connection", "close");
        return sendJson(res, 413, { error: `request body is larger than ${MAX_BODY} bytes` });
      }
      const body = await readBody(req, MAX_BODY);
      const why = options.proof.check(req.headers[PROOF_HEADER] as string | undefined, body);
      if (why) {
        options.log(`registration refused from ${source}: ${why}`);
        if (limit > 0) failures.hit(source);
        return sendJson(res, 401, { error: why });
      }
      const { key, name, tunnels } = parseRegistration(body);
      const { client, created } = await options.registry.register(key, name, tunnels);
      if (created) options.onEnrolled?.(proofTokenId(req.headers[PROOF_HEADER] as string | undefined));
      options.log(`${created ? "registered" : "re-registered"} client ${client.id} (${client.key.fingerprint}) on port ${client.port}`);
      sendJson(res, created ? 201 : 200, registrationAnswer(client, options));
    } catch (error) {
      // A client that hangs up before its body ends is not a relay failure: no 500, no stack trace in the log.
      const status = (error as { status?: number }).status ?? (req.readableAborted ? 400 : 500);
      if (status === 500) options.log(`registration failed: ${(error as Error).stack}`);
      else if (status >= 500) options.log(`registration failed: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, status, { error: (error as Error).message });
    }
  });
  server.maxHeadersCount = 64;
  return server;
}

/** Parses and validates a registration body; throws RegistrationError with the reason. */
function parseRegistration(body: string): { key: ReturnType<typeof parsePublicKey>; name?: string; tunnels: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new RegistrationError('body must be JSON: {"public_key": "ssh-ed25519 AAAA…", "name": "optional"}');
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new RegistrationError("body must be a JSON object");
  }
  const { public_key, name, tunnels = [], ...rest } = data as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new RegistrationError(`unknown field "${extra[0].slice(0, 40)}" (expected public_key, name, tunnels)`);
  if (!Array.isArray(tunnels) || tunnels.length > MAX_TUNNELS) {
    throw new RegistrationError(`tunnels must be a list of at most ${MAX_TUNNELS} names`);
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
