/**
 * The relay's ACME check: every certificate petit-serverd wants is served,
 * and none of their last orders failed.
 * @module
 */
import { fail, ok, warn, type Finding } from "./check.ts";
import type { ServerContext } from "./server-context.ts";

/** With [server.acme]: the relay's own certificate is served, and no order is failing (the CA's reason and the fix otherwise). */
export function checkAcme(context: ServerContext): Finding {
  const { config, running, paths } = context;
  if (!config.acme) return ok("[server.acme] is not set: no certificates from an ACME CA");
  const certificates = running?.acme ?? [];
  const failing = certificates.filter((c) => c.failures > 0);
  const names = failing.flatMap((c) => c.names).map((n) => `"${n}"`).join(", ") || "these names";
  const reachable = (config.acme.dns_hook
    ? `server.acme.dns_hook "${config.acme.dns_hook}" must publish the TXT records _acme-challenge.NAME for ${names} where the CA sees them before it returns`
    : config.acme.challenge === "tls-alpn-01"
    ? `DNS of ${names} must point at this relay, and port ${config.https_port} (server.https_port) must be reachable from the internet for TLS-ALPN-01, with no TLS-terminating proxy in front`
    : `DNS of ${names} must point at this relay, and port ${config.http_port} (server.http_port) must be reachable from the internet for HTTP-01`) +
    `; petit retries on its own (see "${paths.daemonLog}")`;
  const relay = certificates.find((c) => c.label === "relay");
  if (relay && !relay.not_after && relay.last_error) {
    return fail(`no certificate for the relay's own name "${config.domain}": the last order failed: ${relay.last_error}; next attempt ${relay.next_attempt}`, reachable);
  }
  if (relay && !relay.not_after) return warn(`no certificate for the relay's own name "${config.domain}" yet: the first order is under way`, "petit doctor again in a minute");
  if (failing.length) {
    const lines = failing.map((c) => `"${c.label}" (${c.names.join(", ")}): ${c.last_error}; next attempt ${c.next_attempt}` +
      (c.not_after ? `; the served certificate expires ${c.not_after}` : "; no certificate served yet"));
    return warn(`${failing.length} certificate order(s) failing: ${lines.join(" / ")}`, reachable);
  }
  const soonest = certificates.map((c) => c.not_after).filter(Boolean).sort()[0];
  return ok(`${certificates.length} certificate(s) from ${config.acme.directory}` + (soonest ? `; the first expires ${soonest}` : ""));
}
