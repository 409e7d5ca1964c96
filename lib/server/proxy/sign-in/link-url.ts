/**
 * A sign-in link as `petit server access ID --link` gets it from the
 * control port: a fresh single-use code in the URL of the client's host.
 * @module
 */
import { controlError } from "../../../daemon/control-server.ts";
import type { SignInLinkView } from "../../../protocol/server-control.ts";
import type { ClientRecord } from "../../registry/records.ts";
import type { SignInLinks } from "./links.ts";

/** How visitors reach the proxy: its port, and whether it (or a load balancer in front) serves HTTPS. */
export interface PublicEndpoint {
  domain: string;
  httpPort: number;
  /** The proxy serves TLS itself. */
  tls: boolean;
  /** Trusted load balancers are in front (they terminate TLS on 443). */
  behindBalancer: boolean;
}

/**
 * Returns the sign-in link URL with `code` for the host `label`.`domain`,
 * or undefined when visitors reach the relay over plain HTTP only (a
 * browser cannot keep a Secure cookie there).
 * @example signInLinkUrl("shop", "CODE", { domain: "relay.example.com", httpPort: 443, tls: true, behindBalancer: false })
 *   // "https://shop.relay.example.com/.petit/sign-in?link=CODE"
 */
export function signInLinkUrl(label: string, code: string, endpoint: PublicEndpoint): string | undefined {
  if (!endpoint.tls && !endpoint.behindBalancer) return undefined;
  const port = endpoint.tls && endpoint.httpPort !== 443 ? `:${endpoint.httpPort}` : "";
  return `https://${label}.${endpoint.domain}${port}/.petit/sign-in?link=${encodeURIComponent(code)}`;
}

/** Makes a sign-in link for `client` (on its name's host, else its id's); throws a 409 controlError over plain HTTP. */
export function makeSignInLink(client: ClientRecord, links: SignInLinks, endpoint: PublicEndpoint): SignInLinkView {
  const label = client.name || String(client.id);
  if (signInLinkUrl(label, "", endpoint) === undefined) {
    throw controlError(409, "browser sign-in needs HTTPS: set server.tls_cert and server.tls_key in config.toml " +
      "(or list the TLS load balancer in front in server.trusted_proxies), then \"petit server restart\"");
  }
  const { code, expiresAt } = links.issue(client.id, client.access.token);
  return { id: client.id, url: signInLinkUrl(label, code, endpoint)!, expires_at: new Date(expiresAt).toISOString() };
}
