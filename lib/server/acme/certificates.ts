/**
 * The certificates a relay keeps: the ones it wants (its own host name and
 * each client's names, from the registry), ordered one at a time, renewed
 * before expiry, retried with a growing backoff after a failure, and served
 * per SNI. Names come only from the registry, never from a visitor's SNI, so
 * nobody can make the relay order a certificate for a name it does not serve.
 * @module
 */
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import type { AcmeCertificateView } from "../../protocol/server-control.ts";
import type { AcmeFiles, StoredCertificate } from "./acme-files.ts";

/** One certificate the relay wants: a stable label and its DNS names. */
export interface WantedCertificate {
  label: string;
  names: string[];
}


/** Settings of the certificate keeper. */
export interface CertificatesOptions {
  issue(names: string[]): Promise<StoredCertificate>;
  files: AcmeFiles;
  /** The certificates wanted now, read again every second (the registry changes at registration and revocation). */
  wanted(): WantedCertificate[];
  renewBeforeMs: number;
  /** After an order, the least time before the same certificate is ordered again. */
  checkIntervalMs: number;
  log(line: string): void;
}

/** The first retry after a failed order; each further failure doubles it (Let's Encrypt allows 5 failed validations an hour). */
const FIRST_RETRY_MS = 5 * 60_000;
const MAX_RETRY_MS = 24 * 3600_000;

interface Entry extends WantedCertificate {
  served?: { cert: StoredCertificate; notAfter: number; context: SecureContext };
  nextAttempt: number;
  failures: number;
  lastError?: string;
}

/** Orders, renews and serves the relay's certificates. */
export class AcmeCertificates {
  readonly #entries = new Map<string, Entry>();
  readonly #byHost = new Map<string, Entry>();
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #issued = 0;
  #failed = 0;

  constructor(readonly options: CertificatesOptions) {}

  /** Loads kept certificates and starts ordering what is missing or due. */
  start(): void {
    this.tick();
    this.#timer = setInterval(() => this.tick(), 1_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The TLS servers' SNICallback: the certificate holding `servername`, else the relay's own. */
  readonly sniCallback = (servername: string, callback: (error: Error | null, context?: SecureContext) => void): void => {
    const name = servername.toLowerCase();
    const entry = this.#byHost.get(name) ?? this.#byHost.get(name.replace(/^[^.]*/, "*")) ?? this.#entries.get("relay");
    callback(null, entry?.served?.context);
  };

  /** Syncs the wanted certificates with the registry and starts the next due order, if none is running. */
  tick(now = Date.now()): void {
    const wanted = this.options.wanted();
    const labels = new Set(wanted.map((w) => w.label));
    for (const label of this.#entries.keys()) if (!labels.has(label)) this.#entries.delete(label);
    for (const w of wanted) {
      const entry = this.#entries.get(w.label);
      if (!entry) this.#entries.set(w.label, this.#load(w, now));
      else if (!sameNames(entry.names, w.names)) Object.assign(entry, { names: w.names, nextAttempt: now, failures: 0 });
    }
    this.#byHost.clear();
    for (const entry of this.#entries.values()) {
      if (entry.served) for (const name of entry.served.cert.names) this.#byHost.set(name, entry);
    }
    if (this.#busy) return;
    const due = [...this.#entries.values()].find((e) => e.nextAttempt <= now);
    if (due) void this.#order(due);
  }

  /** Each wanted certificate's state. */
  status(): AcmeCertificateView[] {
    return [...this.#entries.values()].map((e) => ({
      label: e.label, names: e.names, failures: e.failures, last_error: e.lastError ?? null,
      not_after: e.served ? new Date(e.served.notAfter).toISOString() : null,
      next_attempt: new Date(e.nextAttempt).toISOString(),
    }));
  }

  /** Orders since start: issued and failed. */
  counts(): { issued: number; failed: number } {
    return { issued: this.#issued, failed: this.#failed };
  }

  #load(wanted: WantedCertificate, now: number): Entry {
    const entry: Entry = { ...wanted, nextAttempt: now, failures: 0 };
    const kept = this.options.files.certificate(wanted.label);
    if (kept && sameNames(kept.names, wanted.names)) {
      try {
        this.#serve(entry, kept);
      } catch (error) {
        this.options.log(`acme: ignoring the kept certificate "${wanted.label}": ${(error as Error).message}; ordering a new one`);
      }
    }
    return entry;
  }

  /** Serves `cert` for `entry` and plans its renewal. */
  #serve(entry: Entry, cert: StoredCertificate, orderedAt?: number): void {
    const notAfter = Date.parse(new X509Certificate(cert.cert).validTo);
    entry.served = { cert, notAfter, context: createSecureContext({ cert: cert.cert, key: cert.key }) };
    const renewAt = notAfter - this.options.renewBeforeMs;
    entry.nextAttempt = orderedAt === undefined ? renewAt : Math.max(renewAt, orderedAt + this.options.checkIntervalMs);
  }

  async #order(entry: Entry): Promise<void> {
    this.#busy = true;
    const started = Date.now();
    const what = `certificate "${entry.label}" (${entry.names.join(", ")})`;
    const names = entry.names;
    try {
      const cert = await this.options.issue(names);
      this.options.files.saveCertificate(entry.label, cert);
      this.#serve(entry, cert, Date.now());
      entry.failures = 0;
      entry.lastError = undefined;
      this.#issued++;
      this.options.log(`acme: ${what} issued in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `valid until ${new Date(entry.served!.notAfter).toISOString()}; next renewal check ${new Date(entry.nextAttempt).toISOString()}`);
    } catch (error) {
      entry.failures++;
      this.#failed++;
      entry.lastError = oneLine((error as Error).message);
      const delay = Math.min(FIRST_RETRY_MS * 2 ** (entry.failures - 1), MAX_RETRY_MS);
      entry.nextAttempt = Date.now() + delay;
      this.options.log(`acme: ${what} failed (attempt ${entry.failures}): ${entry.lastError}; ` +
        `next attempt in ${Math.round(delay / 1000)} s${entry.served ? " (the current certificate is still served)" : ""}`);
    } finally {
      this.#busy = false;
    }
  }
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(" ") === [...b].sort().join(" ");
}

/** The CA's reason on one line, and not endless: it goes to the log, /metrics and doctor. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
