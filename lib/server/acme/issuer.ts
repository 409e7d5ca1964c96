/**
 * Ordering one certificate from an ACME CA with acme-client: the account
 * (its key kept 0600 and reused), a fresh P-256 key per certificate, and
 * the challenges: HTTP-01 answered by the plain port (Http01Tokens),
 * TLS-ALPN-01 by the HTTPS port (TlsAlpnChallenges), or DNS-01 by the
 * operator's hook.
 * @module
 */
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";
import * as acme from "acme-client";
import type { AcmeFiles, StoredCertificate } from "./acme-files.ts";
import type { Http01Tokens } from "./challenges.ts";
import { runDnsHook } from "./dns-hook.ts";
import type { TlsAlpnChallenges } from "./tls-alpn-challenges.ts";

/** The challenge types petit answers; server.acme.challenge picks one of the first two, a DNS hook the third. */
export type ChallengeType = "http-01" | "tls-alpn-01" | "dns-01";

/** How long one request to the CA may take before the order fails (and is retried after a backoff). */
const CA_REQUEST_TIMEOUT_MS = 30_000;

/** Settings of the issuer. */
export interface IssuerOptions {
  directory: string;
  email: string;
  /** PEM of an extra CA that signs the directory's own HTTPS certificate (pebble's, in tests). */
  extraCa?: string;
  /** The challenge to answer: "dns-01" needs `dnsHook`. */
  challenge: ChallengeType;
  /** The program that publishes DNS-01 TXT records (dns-hook.ts). */
  dnsHook?: string;
  files: AcmeFiles;
  tokens: Http01Tokens;
  alpn: TlsAlpnChallenges;
}

/** Orders certificates from one ACME directory under one account. */
export class AcmeIssuer {
  #client: acme.Client | undefined;

  constructor(readonly options: IssuerOptions) {
    // acme-client talks to the CA through its own axios instance: trust the extra CA there, and bound every request.
    acme.axios.defaults.timeout = CA_REQUEST_TIMEOUT_MS;
    if (options.extraCa) acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, options.extraCa], keepAlive: true });
  }

  /** Orders a certificate for `names` (the first is its common name); throws with the CA's reason when it fails. */
  async issue(names: string[]): Promise<StoredCertificate> {
    const client = await this.#account();
    const [key, csr] = await acme.crypto.createCsr({ commonName: names[0], altNames: names }, await acme.crypto.createPrivateEcdsaKey());
    const { challenge: type, dnsHook: hook, tokens, alpn } = this.options;
    // For dns-01, acme-client hands over the TXT value (the key authorization's digest), not the key authorization.
    const record = (authz: acme.Authorization) => `_acme-challenge.${authz.identifier.value}`;
    const cert = await client.auto({
      csr, email: this.options.email, termsOfServiceAgreed: true, challengePriority: [type],
      // acme-client would check the token itself first, through this machine's DNS: the CA's own check is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== type) {
          throw new Error(`the CA offers no ${type} challenge for "${authz.identifier.value}" (it chose ${challenge.type})`);
        }
        if (type === "dns-01") return runDnsHook(hook!, "add", record(authz), keyAuthorization);
        if (type === "http-01") return tokens.add(challenge.token, keyAuthorization);
        // RFC 8737 §3: a self-signed certificate for the name, carrying the key authorization's digest; P-256, as RSA is slow to make.
        const key = await acme.crypto.createPrivateEcdsaKey();
        const [, challengeCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, key);
        alpn.add(authz.identifier.value, challengeCert.toString(), key.toString());
      },
      challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
        // Also called after challengeCreateFn refused another type: then there is nothing to remove. (A string: acme-client's
        // types know only http-01 and dns-01 challenges.)
        if ((challenge.type as string) !== type) return;
        if (type === "dns-01") await runDnsHook(hook!, "remove", record(authz), keyAuthorization);
        if (type === "http-01") await tokens.remove(challenge.token);
        if (type === "tls-alpn-01") alpn.remove(authz.identifier.value);
      },
    });
    return { names, cert, key: key.toString() };
  }

  async #account(): Promise<acme.Client> {
    if (this.#client) return this.#client;
    let key = this.options.files.accountKey();
    if (!key) {
      key = (await acme.crypto.createPrivateEcdsaKey()).toString();
      this.options.files.saveAccountKey(key);
    }
    // Polls an order in progress from 1 s on, backing off to 10 s (acme-client's default starts at 5 s).
    this.#client = new acme.Client({ directoryUrl: this.options.directory, accountKey: key, backoffMin: 1_000, backoffMax: 10_000 });
    return this.#client;
  }
}
