/**
 * HTTPS by ACME against a real ACME server (pebble, Let's Encrypt's test CA,
 * with pebble-challtestsrv as its DNS): a real relay gets its own
 * certificate and one per client over HTTP-01, serves each per SNI on its
 * HTTPS port and redirects its plain port, renews, and reports a failing
 * challenge in its log, /metrics and petit doctor while it keeps serving.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connect } from "node:tls";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { parse, stringify } from "smol-toml";
import { request } from "undici";
import { DOMAIN, killFromPidFile, waitFor } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { startPebble, type Pebble } from "../helpers/pebble.ts";
import { makeHome, petit, petitOk } from "../helpers/petit.ts";
import { freePort, freeRange } from "../helpers/ports.ts";

const exec = promisify(execFile);
const RESOLVER = pathToFileURL(resolve(import.meta.dirname, "../helpers/resolve-test-domain.mjs")).href;

/** The certificate 127.0.0.1:`port` serves for `servername`, checked against `ca` only. */
function served(port: number, servername: string, ca: string): Promise<{ authorized: boolean; serial: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername, ca, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      resolve({ authorized: socket.authorized, serial: cert?.serialNumber ?? "", error: socket.authorizationError?.message });
      socket.destroy();
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error("TLS handshake timed out")));
    socket.once("error", reject);
  });
}

describe("HTTPS by ACME against pebble", () => {
  const home = makeHome("acme-relay");
  const clientHomes: { dir: string; remove(): void }[] = [];
  const ports = { http: 0, https: 0, api: 0, control: 0, ssh: 0, range: 0 };
  let pebble: Pebble;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let rootFile: string;
  let root: string;
  let web: { id: number; token: string; publicUrl: string };
  let upToCertificateMs = 0;
  let upReturnedMs = 0;
  const clientEnv = () => ({ NODE_OPTIONS: `--import ${RESOLVER}`, NODE_EXTRA_CA_CERTS: rootFile });
  const relayLog = () => readFileSync(join(home.dir, "server/serverd.log"), "utf8");
  const curl = (host: string, path: string, args: string[] = []) => exec("curl", [
    "-sS", "--max-time", "10", "--cacert", rootFile, "--resolve", `${host}:${ports.https}:127.0.0.1`, ...args, `https://${host}:${ports.https}${path}`,
  ]);

  /** Registers a client named `name` through the API's https:// URL; returns its home. */
  const register = async (name: string) => {
    const dir = makeHome("acme-client");
    clientHomes.push(dir);
    await petitOk(dir.dir, [
      "register", `https://${DOMAIN}:${ports.api}`, "--token", (await petitOk(home.dir, ["server", "token"])).trim(),
      "--to", `127.0.0.1:${origin.port}`, "--name", name, "--control-port", String(await freePort()),
    ], { env: clientEnv() });
    return dir.dir;
  };

  before(async () => {
    for (const key of ["http", "https", "api", "control", "ssh"] as const) ports[key] = await freePort();
    ports.range = await freeRange(10);
    pebble = await startPebble({ httpPort: ports.http, tlsPort: ports.https });
    root = await pebble.root();
    rootFile = join(home.dir, "pebble-root.pem");
    writeFileSync(rootFile, root);
    origin = await startOrigin("acme-origin");
    await petitOk(home.dir, [
      "server", "init", "--domain", DOMAIN, "--listen", "127.0.0.1", "--http-port", String(ports.http), "--https-port", String(ports.https),
      "--api-port", String(ports.api), "--control-port", String(ports.control), "--ssh-port", String(ports.ssh),
      "--port-range", `${ports.range}-${ports.range + 9}`, "--ssh-host", "127.0.0.1",
      "--acme-email", "ops@example.com", "--acme-directory", pebble.directory, "--acme-ca-file", pebble.listenCaFile,
    ]);
    // pebble's certificates last years: renew whenever 8 s have passed since the last order, to see renewals here.
    const file = join(home.dir, "config.toml");
    const config = parse(readFileSync(file, "utf8")) as { server: { acme: Record<string, unknown> } };
    Object.assign(config.server.acme, { renew_before_days: 100_000, check_interval: 8 });
    writeFileSync(file, stringify(config), { mode: 0o600 });

    const started = Date.now();
    await petitOk(home.dir, ["server", "up"]);
    upReturnedMs = Date.now() - started;
    await waitFor(async () => (await served(ports.https, DOMAIN, root)).authorized, 60_000, "a valid certificate for the relay's own name");
    upToCertificateMs = Date.now() - started;
  });

  after(async () => {
    for (const dir of clientHomes) {
      await petit(dir.dir, ["down"]);
      killFromPidFile(join(dir.dir, "client/clientd.pid"));
      killFromPidFile(join(dir.dir, "client/ssh.pid"));
      dir.remove();
    }
    await petit(home.dir, ["server", "down"]);
    killFromPidFile(join(home.dir, "server/serverd.pid"));
    killFromPidFile(join(home.dir, "server/sshd.pid"));
    home.remove();
    await origin?.close();
    await pebble?.stop();
  });

  test("the relay serves a certificate for its own name soon after petit server up, and keeps the account key 0600", (t) => {
    const order = new RegExp(`acme: certificate "relay" \\(${DOMAIN}\\) issued in ([\\d.]+) s`).exec(relayLog());
    assert.ok(order, relayLog());
    t.diagnostic(`petit server up → valid certificate for ${DOMAIN}: ${upToCertificateMs} ms (petit server up returned after ${upReturnedMs} ms; the order itself took ${order[1]} s)`);
    assert.ok(upToCertificateMs < 60_000);
    for (const file of ["acme/account.key", "acme/certs/relay.json"]) {
      assert.equal(readFileSync(join(home.dir, "server", file)).length > 0, true);
      assert.equal((statSync(join(home.dir, "server", file)).mode & 0o777).toString(8), "600", file);
    }
  });

  test("petit register https:// works with the real certificate, and the public URL it prints is https://", async () => {
    const dir = await register("web");
    const client = (parse(readFileSync(join(dir, "config.toml"), "utf8")) as { client: { id: number; access_token: string; public_url: string } }).client;
    web = { id: client.id, token: client.access_token, publicUrl: client.public_url };
    assert.equal(web.publicUrl, `https://${web.id}.${DOMAIN}:${ports.https}/`);
    await petitOk(dir, ["up"], { env: clientEnv() });
  });

  test("a client's names get their own certificate, and curl trusting only pebble's root reaches the service by either name", async (t) => {
    const ms = await waitFor(async () => (await served(ports.https, `web.${DOMAIN}`, root)).authorized, 60_000, "the client's certificate");
    t.diagnostic(`petit up → valid certificate for web.${DOMAIN}: ${ms} ms`);
    for (const host of [`web.${DOMAIN}`, `${web.id}.${DOMAIN}`]) {
      const { stdout } = await curl(host, "/hello", ["-H", `x-petit-token: ${web.token}`]);
      const seen = JSON.parse(stdout) as { name: string; url: string; headers: Record<string, string> };
      assert.equal(seen.name, "acme-origin");
      assert.equal(seen.url, "/hello");
      assert.equal(seen.headers["x-forwarded-proto"], "https");
    }
  });

  test("the plain port redirects to the same host and path over HTTPS", async () => {
    const res = await request(`http://127.0.0.1:${ports.http}/some/path?q=1`, { headers: { host: `web.${DOMAIN}:${ports.http}` } });
    await res.body.text();
    assert.equal(res.statusCode, 308);
    assert.equal(res.headers.location, `https://web.${DOMAIN}:${ports.https}/some/path?q=1`);
    const unknown = await request(`http://127.0.0.1:${ports.http}/.well-known/acme-challenge/nope`, { headers: { host: `web.${DOMAIN}` } });
    assert.equal(unknown.statusCode, 404);
    await unknown.body.text();
  });

  test("a certificate due for renewal is renewed and the new one is served", async () => {
    const before = await served(ports.https, DOMAIN, root);
    await waitFor(async () => {
      const now = await served(ports.https, DOMAIN, root);
      return now.authorized && now.serial !== before.serial;
    }, 60_000, "a renewed certificate for the relay's own name");
    assert.ok(relayLog().match(/acme: certificate "relay" .* issued in/g)!.length >= 2);
  });

  test("a failing challenge is reported in the log, /metrics and petit doctor while the relay keeps serving", async () => {
    // broken.petit.test resolves, for the CA, to an address the relay does not listen on: its HTTP-01 validation fails.
    await pebble.addA(`broken.${DOMAIN}`, ["127.0.0.2"]);
    await register("broken");
    const failed = /acme: certificate "client-(\d+)" \(\d+\.petit\.test, broken\.petit\.test\) failed \(attempt 1\): (.*); next attempt in 300 s/;
    await waitFor(() => failed.test(relayLog()), 60_000, "the failed order in the relay's log");
    const [, id, reason] = failed.exec(relayLog())!;
    assert.match(reason, /broken\.petit\.test|127\.0\.0\.2|connection refused/i);

    const metrics = await (await request(`http://127.0.0.1:${ports.control}/metrics`)).body.text();
    assert.match(metrics, new RegExp(`petit_acme_certificate_failing\\{certificate="client-${id}"\\} 1`));
    assert.match(metrics, /petit_acme_certificate_failing\{certificate="relay"\} 0/);
    assert.match(metrics, /petit_acme_orders_total\{result="failed"\} [1-9]/);

    const doctor = await petit(home.dir, ["doctor", "--json"]);
    const rows = JSON.parse(String(doctor.stdout)) as { check: string; status: string; message: string; fix: string | null }[];
    const acme = rows.find((r) => r.check === "acme")!;
    assert.equal(acme.status, "warn");
    assert.match(acme.message, new RegExp(`"client-${id}" \\(${id}\\.petit\\.test, broken\\.petit\\.test\\)`));
    assert.match(acme.fix!, /broken\.petit\.test.*port \d+ \(server\.http_port\)/);
    assert.equal(doctor.exitCode, 0, "a failing client certificate is a warning");
    for (const check of ["port-http", "port-https"]) assert.match(rows.find((r) => r.check === check)!.message, /held by petit/, check);

    const { stdout } = await curl(`web.${DOMAIN}`, "/still", ["-H", `x-petit-token: ${web.token}`]);
    assert.equal((JSON.parse(stdout) as { url: string }).url, "/still");
  });
});
