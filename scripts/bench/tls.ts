/**
 * The HTTPS rows of the bench: a self-signed certificate for the bench's
 * host, and petit's proxy serving HTTPS in a process of its own in front of
 * the same tunnel port as the relay's (the same createProxyServer the
 * daemon runs, with `tls`; a relay serves either HTTP or HTTPS, and the
 * bench needs both side by side).
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createProxyServer } from "../../lib/server/proxy/proxy.ts";
import { VisitorGate } from "../../lib/server/proxy/visitor-auth.ts";
import { onCleanup } from "./cleanup.ts";
import { serveChild } from "./serve-child.ts";

/** A certificate and key (PEM files) for `host`. */
export interface Cert {
  cert: string;
  key: string;
}

/** Makes a self-signed certificate for `host` with openssl; removed at cleanup. */
export function makeCert(host: string): Cert {
  const dir = mkdtempSync(join(tmpdir(), "petit-bench-tls-"));
  onCleanup("bench certificate", async () => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=${host}`, "-addext", `subjectAltName=DNS:${host}`, "-keyout", key, "-out", cert], { stdio: "ignore" });
  return { cert, key };
}

/** Starts petit's proxy on HTTPS, routing client `id` to 127.0.0.1:`tunnelPort` with access `token`; resolves with its port and pid. */
export function startTlsProxy(options: { id: number; tunnelPort: number; token: string; domain: string; cert: Cert }): Promise<{ port: number; pid: number }> {
  const args = [String(options.id), String(options.tunnelPort), options.token, options.domain, options.cert.cert, options.cert.key];
  return serveChild("TLS proxy", fileURLToPath(import.meta.url), args);
}

function serve([id, port, token, domain, cert, key]: string[]): void {
  const route = { id: Number(id), port: Number(port), access: { token, public: false, allow_from: [] } };
  const server = createProxyServer({
    domain, resolve: (label) => (label === id ? route : undefined), gate: new VisitorGate(undefined),
    tls: { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") }, log: (line) => process.stderr.write(`${line}\n`),
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`port=${(server.address() as { port: number }).port}\n`));
  process.stdin.on("end", () => process.exit(0)).resume();
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--serve") serve(process.argv.slice(3));
