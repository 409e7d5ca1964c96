/**
 * ACME for the relay, put together: the kept state, the issuer, the
 * certificate keeper, the plain port's challenge-and-redirect server, the
 * TLS options both HTTPS servers use, and the ACME lines of /metrics.
 * @module
 */
import { accessSync, constants, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { TlsOptions } from "node:tls";
import type { AcmeConfig } from "../../config/schema.ts";
import { renderPrometheus } from "../../http/prometheus.ts";
import type { ClientRecord } from "../registry/records.ts";
import { AcmeFiles } from "./acme-files.ts";
import { AcmeCertificates, type WantedCertificate } from "./certificates.ts";
import { Http01Tokens, type SharedChallenges } from "./challenges.ts";
import type { AcmeIssuer, ChallengeType } from "./issuer.ts";
import { createRedirectServer } from "./redirect-server.ts";
import { TlsAlpnChallenges } from "./tls-alpn-challenges.ts";

/** The running ACME parts. */
export interface RelayAcme {
  certificates: AcmeCertificates;
  /** The plain port's server: challenges, else a redirect to HTTPS. */
  redirect: Server;
  /** TLS options of the proxy and the API: a certificate per SNI name. */
  tls: TlsOptions;
  /** The challenge type the relay answers. */
  challenge: ChallengeType;
  /** With TLS-ALPN-01: the pending challenges the proxy's HTTPS port answers. */
  tlsAlpn?: TlsAlpnChallenges;
  /** The ACME lines of /metrics. */
  metrics(): string;
}

/** Creates the ACME parts (started by `certificates.start()`). */
export function createRelayAcme(options: {
  config: AcmeConfig; dir: string; domain: string; httpsPort: number;
  clients: () => readonly ClientRecord[]; log: (line: string) => void;
  /** With a store: every relay's HTTP-01 challenges, so the CA may ask any relay. */
  sharedChallenges?: SharedChallenges;
}): RelayAcme {
  const files = new AcmeFiles(options.dir);
  const tokens = new Http01Tokens(options.sharedChallenges);
  const alpn = new TlsAlpnChallenges();
  // A DNS hook wins over server.acme.challenge: it is the only way to the wildcard certificate it orders.
  const challenge: ChallengeType = options.config.dns_hook ? "dns-01" : options.config.challenge;
  const extraCa = options.config.ca_file ? readCaFile(options.config.ca_file) : undefined;
  if (options.config.dns_hook) checkHook(options.config.dns_hook);
  // Loaded at the first order: acme-client is a large library that only a relay with [server.acme] runs (scripts/bundle-acme.mjs).
  let issuer: AcmeIssuer | undefined;
  const issue = async (names: string[]) => {
    issuer ??= new (await import("./issuer.ts")).AcmeIssuer({
      directory: options.config.directory, email: options.config.email, extraCa, files, tokens, alpn, challenge, dnsHook: options.config.dns_hook || undefined,
    });
    return issuer.issue(names);
  };
  const certificates = new AcmeCertificates({
    issue, files, log: options.log,
    // With a DNS hook, one wildcard certificate covers every client: nothing to order at registration.
    wanted: () => (options.config.dns_hook ? [{ label: "relay", names: [options.domain, `*.${options.domain}`] }] : wantedCertificates(options.domain, options.clients())),
    renewBeforeMs: options.config.renew_before_days * 86_400_000,
    checkIntervalMs: options.config.check_interval * 1000,
  });
  return {
    certificates,
    redirect: createRedirectServer({ tokens, httpsPort: options.httpsPort }),
    tls: { SNICallback: certificates.sniCallback },
    challenge,
    tlsAlpn: challenge === "tls-alpn-01" ? alpn : undefined,
    metrics: () => acmeMetrics(certificates),
  };
}

/** The relay's own host name, then one certificate per client: `<id>.<domain>`, `<name>.<domain>` and its tunnels' names. */
export function wantedCertificates(domain: string, clients: readonly ClientRecord[]): WantedCertificate[] {
  return [
    { label: "relay", names: [domain] },
    ...clients.map((c) => ({
      label: `client-${c.id}`,
      names: [c.id, ...(c.name ? [c.name] : []), ...(c.tunnels ?? []).map((t) => t.name)].map((label) => `${label}.${domain}`.toLowerCase()),
    })),
  ];
}

/** Reads server.acme.ca_file at start-up, so a wrong path stops `petit server up` with the reason. */
function readCaFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`Cannot read server.acme.ca_file "${path}": ${(error as NodeJS.ErrnoException).code} (fix the path, or set it to "")`, { cause: error });
  }
}

/** Checks at start-up that server.acme.dns_hook can be run. */
function checkHook(path: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch (error) {
    throw new Error(`Cannot run server.acme.dns_hook "${path}": ${(error as NodeJS.ErrnoException).code} (give the absolute path of an executable, or set it to "")`, { cause: error });
  }
}

function acmeMetrics(certificates: AcmeCertificates): string {
  const status = certificates.status();
  const counts = certificates.counts();
  return renderPrometheus([
    {
      name: "petit_acme_certificate_expiry_timestamp_seconds", help: "When the served ACME certificate expires (Unix time).", type: "gauge",
      samples: status.filter((s) => s.not_after).map((s) => ({ labels: { certificate: s.label }, value: Date.parse(s.not_after!) / 1000 })),
    },
    {
      name: "petit_acme_certificate_failing", help: "1 while the last order of the certificate failed (see the relay's log or petit doctor).", type: "gauge",
      samples: status.map((s) => ({ labels: { certificate: s.label }, value: s.failures > 0 ? 1 : 0 })),
    },
    {
      name: "petit_acme_orders_total", help: "Certificate orders since the relay started, by result.", type: "counter",
      samples: [{ labels: { result: "issued" }, value: counts.issued }, { labels: { result: "failed" }, value: counts.failed }],
    },
  ]);
}
