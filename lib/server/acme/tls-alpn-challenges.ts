/**
 * TLS-ALPN-01 challenges in flight (RFC 8737): for each name the CA is about
 * to validate, the self-signed certificate carrying the key authorization's
 * digest that the HTTPS port shows to a ClientHello offering only
 * `acme-tls/1` for that name (lib/server/proxy/tls-alpn-accept.ts).
 * @module
 */
import { createSecureContext, type SecureContext } from "node:tls";

/** The challenge certificates petit is waiting to be asked for, by DNS name. */
export class TlsAlpnChallenges {
  readonly #contexts = new Map<string, SecureContext>();

  /** How many challenges are pending: while none is, the HTTPS port does not look at ClientHellos at all. */
  get size(): number {
    return this.#contexts.size;
  }

  /** Serves `cert` (with `key`, both PEM) to the CA's TLS-ALPN-01 handshake for `name`. */
  add(name: string, cert: string, key: string): void {
    this.#contexts.set(name.toLowerCase(), createSecureContext({ cert, key }));
  }

  remove(name: string): void {
    this.#contexts.delete(name.toLowerCase());
  }

  /** The challenge certificate's context for `name` (lower case, from SNI), if one is pending. */
  context(name: string): SecureContext | undefined {
    return this.#contexts.get(name);
  }
}
