/**
 * Self-signed certificates for tests of the relay's HTTPS.
 * @module
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { DOMAIN } from "./fixture.ts";

/** Makes a self-signed certificate for 127.0.0.1 and *.DOMAIN in `dir`, named `name`; returns the file paths. */
export function makeCert(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=${name}`, "-addext", `subjectAltName=IP:127.0.0.1,DNS:*.${DOMAIN}`, "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { cert, key };
}
