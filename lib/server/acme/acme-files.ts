/**
 * The ACME state under the server folder: the account key (and the account
 * URL, per directory), and each certificate with its key. Every file is 0600
 * and is reused after a restart, so a restart asks the CA for nothing new.
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { readFileIfExists, writeFileAtomic } from "../../fs-atomic.ts";

/** A certificate as it is kept: chain and key (PEM) and the names it was ordered for. */
export interface StoredCertificate {
  names: string[];
  cert: string;
  key: string;
}

/** The files of one relay's ACME state, in `dir` (server/acme). */
export class AcmeFiles {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, "certs"), { recursive: true, mode: 0o700 });
  }

  /** The account key (PEM), or undefined before the first order. */
  accountKey(): string | undefined {
    return readFileIfExists(join(this.dir, "account.key"));
  }

  saveAccountKey(pem: string): void {
    writeFileAtomic(join(this.dir, "account.key"), pem, 0o600);
  }

  /** The certificate kept under `label` ("relay", "client-1001"), if any. */
  certificate(label: string): StoredCertificate | undefined {
    const text = readFileIfExists(this.#certFile(label));
    if (text === undefined) return undefined;
    try {
      const stored = JSON.parse(text) as StoredCertificate;
      return Array.isArray(stored.names) && typeof stored.cert === "string" && typeof stored.key === "string" ? stored : undefined;
    } catch {
      // A damaged file is as good as none: the certificate is ordered again.
      return undefined;
    }
  }

  saveCertificate(label: string, stored: StoredCertificate): void {
    writeFileAtomic(this.#certFile(label), JSON.stringify(stored, null, 2) + "\n", 0o600);
  }

  #certFile(label: string): string {
    // Labels are petit's own ("relay", "client-<id>"), never a visitor's text.
    return join(this.dir, "certs", `${label}.json`);
  }
}
