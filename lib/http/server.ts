/**
 * An HTTP or, given a key and certificate, HTTPS server, with certificate
 * reload (for SIGHUP after a renewal).
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type RequestListener, type Server, type ServerOptions } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server as NetServer } from "node:net";
import type { SecureContextOptions, TlsOptions } from "node:tls";

/** Paths of a PEM certificate and key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Reads a certificate and key; throws naming the file that cannot be read. */
export function readTls(files: TlsFiles): { cert: string; key: string } {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(`Cannot read the TLS ${what} "${path}": ${(error as NodeJS.ErrnoException).code} (check server.tls_${what === "certificate" ? "cert" : "key"})`, { cause: error });
    }
  };
  return { cert: read(files.cert, "certificate"), key: read(files.key, "key") };
}

/** Creates an HTTPS server when `tls` is given, else HTTP. */
export function createWebServer(settings: ServerOptions, tls: TlsOptions | undefined, handler: RequestListener): Server {
  return tls ? createHttpsServer({ ...settings, ...tls }, handler) : createHttpServer(settings, handler);
}

/** Loads a renewed certificate into running HTTPS (and TLS) servers; plain ones are left alone. */
export function reloadTls(servers: NetServer[], files: TlsFiles): void {
  const tls = readTls(files);
  for (const server of servers) {
    if ("setSecureContext" in server) (server as { setSecureContext(options: SecureContextOptions): void }).setSecureContext(tls);
  }
}
