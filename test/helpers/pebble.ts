/**
 * Let's Encrypt's test CA for e2e tests: pebble (the ACME server) and
 * pebble-challtestsrv (its DNS, answering 127.0.0.1 for every name unless
 * told otherwise), both from Debian's "pebble" package, on free ports of
 * 127.0.0.1, stopped by PID.
 * @module
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { ROOT } from "./petit.ts";
import { freePort } from "./ports.ts";

/** A running pebble. */
export interface Pebble {
  /** The ACME directory URL. */
  directory: string;
  /** PEM of the CA that signed pebble's own HTTPS certificate (server.acme.ca_file). */
  listenCaFile: string;
  /** PEM of the root pebble issues under: what a visitor of the relay trusts. */
  root(): Promise<string>;
  /** challtestsrv's management URL (POST /set-txt {"host", "value"} publishes a TXT record). */
  dnsManagement: string;
  /** Makes challtestsrv answer `addresses` for `host` (A records) instead of 127.0.0.1. */
  addA(host: string, addresses: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Installs pebble when missing (as scripts/ensure-openssh.sh does OpenSSH); throws with the command when it cannot. */
export function ensurePebble(): void {
  execFileSync("bash", [join(ROOT, "scripts/ensure-pebble.sh")], { stdio: ["ignore", "ignore", "pipe"] });
}

/** Starts challtestsrv and pebble; validation of HTTP-01 goes to 127.0.0.1:`httpPort` (the relay's plain port). */
export async function startPebble(options: { httpPort: number; tlsPort: number }): Promise<Pebble> {
  ensurePebble();
  const dir = mkdtempSync(join(tmpdir(), "petit-pebble-"));
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const listenCaFile = makeListenCertificate(dir);
    const [acmePort, managementPort, dnsPort, challengeManagementPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    children.push(run("pebble-challtestsrv", [
      "-dns01", `127.0.0.1:${dnsPort}`, "-management", `127.0.0.1:${challengeManagementPort}`,
      "-http01", "", "-https01", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
    ], {}, output));
    writeFileSync(join(dir, "pebble.json"), JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: join(dir, "listen.crt"), privateKey: join(dir, "listen.key"),
        httpPort: options.httpPort, tlsPort: options.tlsPort, ocspResponderURL: "", externalAccountBindingRequired: false,
      },
    }));
    // NOSLEEP: validate at once; NONCEREJECT=0 and AUTHZREUSE=0: every order is validated, none fails at random.
    children.push(run("pebble", ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
      PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0",
    }, output));
    const agent = new Agent({ connect: { ca: readFileSync(listenCaFile, "utf8") } });
    const directory = `https://127.0.0.1:${acmePort}/dir`;
    await waitUntil(async () => (await request(directory, { dispatcher: agent })).statusCode === 200, 20_000, () => `pebble's directory ${directory}\n${output.join("")}`);
    await waitUntil(async () => (await request(`http://127.0.0.1:${challengeManagementPort}/`, { method: "POST", body: "{}" }).then((r) => r.body.text(), () => undefined)) !== undefined, 10_000, () => `challtestsrv\n${output.join("")}`);
    return {
      directory, listenCaFile, dnsManagement: `http://127.0.0.1:${challengeManagementPort}`,
      root: async () => (await request(`https://127.0.0.1:${managementPort}/roots/0`, { dispatcher: agent })).body.text(),
      async addA(host, addresses) {
        const res = await request(`http://127.0.0.1:${challengeManagementPort}/add-a`, { method: "POST", body: JSON.stringify({ host: `${host}.`, addresses }) });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`challtestsrv /add-a answered ${res.statusCode}`);
      },
      async stop() {
        await agent.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A CA and a certificate for 127.0.0.1 signed by it, for pebble's own HTTPS; returns the CA's file. */
function makeListenCertificate(dir: string): string {
  const at = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=petit test pebble CA", "-keyout", at("ca.key"), "-out", at("ca.crt")]);
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
    "-keyout", at("listen.key"), "-out", at("listen.csr")]);
  writeFileSync(at("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(["x509", "-req", "-in", at("listen.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial",
    "-days", "2", "-extfile", at("ext.cnf"), "-out", at("listen.crt")]);
  return at("ca.crt");
}

function run(program: string, args: string[], env: Record<string, string>, output: string[]): ChildProcess {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  const keep = (chunk: Buffer) => { output.push(`[${program}] ${chunk}`); if (output.length > 200) output.shift(); };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  child.once("error", (error) => output.push(`[${program}] ${error.message}\n`));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((resolve) => child.once("close", resolve));
  process.kill(child.pid, "SIGTERM");
  const hard = setTimeout(() => child.pid && process.kill(child.pid, "SIGKILL"), 3_000);
  await exited;
  clearTimeout(hard);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
}
