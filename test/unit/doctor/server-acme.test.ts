/**
 * checkAcme(): the fix for a failing certificate order names what the CA
 * must reach for the configured challenge.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { acmeFields, defaultsOf, serverFields, type AcmeConfig, type ServerConfig } from "../../../lib/config/schema.ts";
import { checkAcme } from "../../../lib/doctor/server-acme.ts";
import type { ServerContext } from "../../../lib/doctor/server-context.ts";

/** A relay whose client certificate's order failed, with `acme` over the defaults. */
function failing(acme: Partial<AcmeConfig>): ServerContext {
  const config = {
    ...(defaultsOf(serverFields) as unknown as ServerConfig), domain: "relay.example.com", http_port: 8080, https_port: 8443,
    acme: { ...(defaultsOf(acmeFields) as unknown as AcmeConfig), email: "ops@example.com", ...acme },
  };
  const certificate = (label: string, names: string[], failures: number) => ({
    label, names, failures, last_error: failures ? "connection refused" : null, not_after: failures ? null : "2027-01-01T00:00:00.000Z",
    next_attempt: "2026-12-06T06:00:00.000Z",
  });
  return {
    config, paths: { daemonLog: "/var/lib/petit/server/serverd.log" }, home: "/var/lib/petit", configFile: "/var/lib/petit/config.toml",
    running: { acme: [certificate("relay", ["relay.example.com"], 0), certificate("client-1001", ["1001.relay.example.com"], 1)] },
  } as unknown as ServerContext;
}

describe("checkAcme()", () => {
  test("checkAcme() tells an HTTP-01 relay to open its plain port", () => {
    const finding = checkAcme(failing({}));
    assert.equal(finding.status, "warn");
    assert.match(finding.fix!, /port 8080 \(server\.http_port\) must be reachable from the internet for HTTP-01/);
  });

  test("checkAcme() tells a TLS-ALPN-01 relay to open its HTTPS port, with no TLS-terminating proxy in front", () => {
    const finding = checkAcme(failing({ challenge: "tls-alpn-01" }));
    assert.equal(finding.status, "warn");
    assert.match(finding.fix!, /port 8443 \(server\.https_port\) must be reachable from the internet for TLS-ALPN-01, with no TLS-terminating proxy/);
  });
});
