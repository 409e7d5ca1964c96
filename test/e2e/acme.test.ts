/**
 * HTTPS by ACME against a real ACME server (pebble, Let's Encrypt's test CA,
 * with pebble-challtestsrv as its DNS): a real relay gets its own
 * certificate and one per client over HTTP-01, serves each per SNI on its
 * HTTPS port and redirects its plain port, renews, and reports a failing
 * challenge in its log, /metrics and petit doctor while it keeps serving;
 * over TLS-ALPN-01 the HTTPS port itself answers the CA, visitors served
 * alongside; with a DNS hook, one wildcard certificate over DNS-01 serves
 * every client; two relays sharing a store answer each other's HTTP-01
 * challenges.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { request } from "undici";
import { startAcmeRelay, type AcmeRelay } from "../helpers/acme-relay.ts";
import { DOMAIN, waitFor } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { startPebble, type Pebble } from "../helpers/pebble.ts";
import { petit, petitOk } from "../helpers/petit.ts";
import { freePort } from "../helpers/ports.ts";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../helpers/postgres.ts";

describe("HTTPS by ACME over HTTP-01 against pebble", () => {
  let relay: AcmeRelay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let web: { id: number; token: string; publicUrl: string; home: string };

  before(async () => {
    origin = await startOrigin("acme-origin");
    // pebble's certificates last years: renew whenever 8 s have passed since the last order, to see renewals here.
    relay = await startAcmeRelay({ acme: { renew_before_days: 100_000, check_interval: 8 } });
  });
  after(async () => {
    await relay?.stop();
    await origin?.close();
  });

  test("the relay serves a certificate for its own name soon after petit server up, and keeps the account key 0600", (t) => {
    const order = new RegExp(`acme: certificate "relay" \\(${DOMAIN}\\) issued in ([\\d.]+) s`).exec(relay.log());
    assert.ok(order, relay.log());
    t.diagnostic(`petit server up → valid certificate for ${DOMAIN}: ${relay.certificateMs} ms ` +
      `(petit server up returned after ${relay.upReturnedMs} ms; the order itself took ${order[1]} s)`);
    assert.ok(relay.certificateMs < 60_000);
    for (const file of ["acme/account.key", "acme/certs/relay.json"]) {
      assert.equal((statSync(join(relay.home, "server", file)).mode & 0o777).toString(8), "600", file);
    }
  });

  test("petit register https:// works with the real certificate, and the public URL it prints is https://", async () => {
    web = await relay.register("web", `127.0.0.1:${origin.port}`);
    assert.equal(web.publicUrl, `https://${web.id}.${DOMAIN}:${relay.ports.https}/`);
    await petitOk(web.home, ["up"], relay.clientRun());
  });

  test("a client's names get their own certificate, and curl trusting only pebble's root reaches the service by either name", async (t) => {
    const ms = await relay.waitForCertificate(`web.${DOMAIN}`, 60_000);
    t.diagnostic(`petit up → valid certificate for web.${DOMAIN}: ${ms} ms`);
    for (const host of [`web.${DOMAIN}`, `${web.id}.${DOMAIN}`]) {
      const { stdout } = await relay.curl(host, "/hello", ["-H", `x-petit-token: ${web.token}`]);
      const seen = JSON.parse(stdout) as { name: string; url: string; headers: Record<string, string> };
      assert.equal(seen.name, "acme-origin");
      assert.equal(seen.url, "/hello");
      assert.equal(seen.headers["x-forwarded-proto"], "https");
    }
  });

  test("the plain port redirects to the same host and path over HTTPS", async () => {
    const res = await request(`http://127.0.0.1:${relay.ports.http}/some/path?q=1`, { headers: { host: `web.${DOMAIN}:${relay.ports.http}` } });
    await res.body.text();
    assert.equal(res.statusCode, 308);
    assert.equal(res.headers.location, `https://web.${DOMAIN}:${relay.ports.https}/some/path?q=1`);
    const unknown = await request(`http://127.0.0.1:${relay.ports.http}/.well-known/acme-challenge/nope`, { headers: { host: `web.${DOMAIN}` } });
    assert.equal(unknown.statusCode, 404);
    await unknown.body.text();
  });

  test("a certificate due for renewal is renewed and the new one is served", async () => {
    const first = await relay.served(DOMAIN);
    await relay.waitForCertificate(DOMAIN, 60_000, (now) => now.serial !== first.serial);
    assert.ok(relay.log().match(/acme: certificate "relay" .* issued in/g)!.length >= 2);
  });

  test("a failing challenge is reported in the log, /metrics and petit doctor while the relay keeps serving", async () => {
    // broken.petit.test resolves, for the CA, to an address the relay does not listen on: its HTTP-01 validation fails.
    await relay.pebble.addA(`broken.${DOMAIN}`, ["127.0.0.2"]);
    await relay.register("broken", `127.0.0.1:${origin.port}`);
    const failed = /acme: certificate "client-(\d+)" \(\d+\.petit\.test, broken\.petit\.test\) failed \(attempt 1\): (.*); next attempt in 300 s/;
    await waitFor(() => failed.test(relay.log()), 60_000, "the failed order in the relay's log");
    const [, id, reason] = failed.exec(relay.log())!;
    assert.match(reason, /broken\.petit\.test|127\.0\.0\.2|connection refused/i);

    const metrics = await (await request(`http://127.0.0.1:${relay.ports.control}/metrics`)).body.text();
    assert.match(metrics, new RegExp(`petit_acme_certificate_failing\\{certificate="client-${id}"\\} 1`));
    assert.match(metrics, /petit_acme_certificate_failing\{certificate="relay"\} 0/);
    assert.match(metrics, /petit_acme_orders_total\{result="failed"\} [1-9]/);

    const doctor = await petit(relay.home, ["doctor", "--json"]);
    const rows = JSON.parse(String(doctor.stdout)) as { check: string; status: string; message: string; fix: string | null }[];
    const acme = rows.find((r) => r.check === "acme")!;
    assert.equal(acme.status, "warn");
    assert.match(acme.message, new RegExp(`"client-${id}" \\(${id}\\.petit\\.test, broken\\.petit\\.test\\)`));
    assert.match(acme.fix!, /broken\.petit\.test.*port \d+ \(server\.http_port\)/);
    assert.equal(doctor.exitCode, 0, "a failing client certificate is a warning");
    for (const check of ["port-http", "port-https"]) assert.match(rows.find((r) => r.check === check)!.message, /held by petit/, check);

    const { stdout } = await relay.curl(`web.${DOMAIN}`, "/still", ["-H", `x-petit-token: ${web.token}`]);
    assert.equal((JSON.parse(stdout) as { url: string }).url, "/still");
  });
});

describe("HTTPS by ACME over TLS-ALPN-01 on the HTTPS port against pebble", () => {
  let relay: AcmeRelay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let web: { id: number; token: string; publicUrl: string; home: string };
  const answered = (name: string) => new RegExp(`acme: answered the TLS-ALPN-01 challenge for "${name.replace(/\./g, "\\.")}" to 127\\.0\\.0\\.1`);

  before(async () => {
    origin = await startOrigin("acme-alpn-origin");
    // pebble validates HTTP-01 on a port nothing listens on: a certificate can only come over TLS-ALPN-01.
    relay = await startAcmeRelay({
      initArgs: () => ["--acme-challenge", "tls-alpn-01"], httpChallengeReachable: false, acme: { renew_before_days: 100_000, check_interval: 6 },
    });
  });
  after(async () => {
    await relay?.stop();
    await origin?.close();
  });

  test("the relay gets a certificate for its own name, validated by pebble on its HTTPS port", (t) => {
    const order = new RegExp(`acme: certificate "relay" \\(${DOMAIN}\\) issued in ([\\d.]+) s`).exec(relay.log());
    assert.ok(order, relay.log());
    assert.match(relay.log(), answered(DOMAIN));
    assert.match(relay.log(), /HTTPS proxy on 127\.0\.0\.1:\d+ \(ACME over tls-alpn-01;/);
    t.diagnostic(`TLS-ALPN-01: petit server up → valid certificate for ${DOMAIN}: ${relay.certificateMs} ms ` +
      `(petit server up returned after ${relay.upReturnedMs} ms; the order itself took ${order[1]} s)`);
  });

  test("a client's names get their certificate the same way, and curl trusting only pebble's root reaches the service by either", async (t) => {
    web = await relay.register("web", `127.0.0.1:${origin.port}`);
    await petitOk(web.home, ["up"], relay.clientRun());
    const ms = await relay.waitForCertificate(`web.${DOMAIN}`, 60_000);
    t.diagnostic(`TLS-ALPN-01: petit up → valid certificate for web.${DOMAIN}: ${ms} ms`);
    for (const host of [`web.${DOMAIN}`, `${web.id}.${DOMAIN}`]) {
      assert.match(relay.log(), answered(host));
      const { stdout } = await relay.curl(host, "/alpn", ["-H", `x-petit-token: ${web.token}`]);
      const seen = JSON.parse(stdout) as { name: string; url: string; headers: Record<string, string> };
      assert.deepEqual([seen.name, seen.url, seen.headers["x-forwarded-proto"]], ["acme-alpn-origin", "/alpn", "https"]);
    }
  });

  test("the plain port answers no challenge: it has none, and redirects the rest", async () => {
    const res = await request(`http://127.0.0.1:${relay.ports.http}/.well-known/acme-challenge/anything`, { headers: { host: DOMAIN } });
    assert.equal(res.statusCode, 404);
    await res.body.text();
    const redirect = await request(`http://127.0.0.1:${relay.ports.http}/x`, { headers: { host: `web.${DOMAIN}` } });
    await redirect.body.text();
    assert.equal(redirect.statusCode, 308);
  });

  test("visitors are served without a failure while renewals put challenges on the HTTPS port", async (t) => {
    const before = relay.log().match(/acme: certificate .* issued in/g)!.length;
    const challengesBefore = relay.log().match(/answered the TLS-ALPN-01 challenge/g)!.length;
    let requests = 0;
    // check_interval 6: each certificate is renewed every 6 s, so at least one renewal (and its challenges) falls in 14 s.
    for (const start = Date.now(); Date.now() - start < 14_000; requests++) {
      const { stdout } = await relay.curl(`web.${DOMAIN}`, `/during/${requests}`, ["-H", `x-petit-token: ${web.token}`]);
      assert.equal((JSON.parse(stdout) as { url: string }).url, `/during/${requests}`);
    }
    const renewals = relay.log().match(/acme: certificate .* issued in/g)!.length - before;
    const challenges = relay.log().match(/answered the TLS-ALPN-01 challenge/g)!.length - challengesBefore;
    t.diagnostic(`${requests} requests over HTTPS, none failed, during ${renewals} renewal(s) and ${challenges} TLS-ALPN-01 challenge(s)`);
    assert.ok(renewals >= 1 && challenges >= 1, relay.log());
  });
});

describe("HTTPS by ACME over DNS-01 through the operator's hook", () => {
  let relay: AcmeRelay;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  const dir = mkdtempSync(join(tmpdir(), "petit-dns-hook-"));
  const hook = join(dir, "hook.sh");
  const hookLog = join(dir, "hook.log");

  before(async () => {
    origin = await startOrigin("acme-dns-origin");
    relay = await startAcmeRelay({
      initArgs: (pebble) => {
        // pebble-challtestsrv stands in for the zone's DNS server; a real hook would run nsupdate (see the README).
        // "remove" does nothing: challtestsrv clears every TXT value of a name at once, which could race the other authorization.
        writeFileSync(hook, `#!/bin/sh
set -e
echo "$1 $2 $3" >> "${hookLog}"
[ "$1" = add ] || exit 0
curl -sS -f -X POST -d "{\\"host\\": \\"$2.\\", \\"value\\": \\"$3\\"}" "${pebble.dnsManagement}/set-txt" >/dev/null
`);
        chmodSync(hook, 0o755);
        return ["--acme-dns-hook", hook];
      },
    });
  });
  after(async () => {
    await relay?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("one wildcard certificate for the relay's name and *.domain serves every client, ordered once", async () => {
    const client = await relay.register("shop", `127.0.0.1:${origin.port}`);
    await petitOk(client.home, ["up"], relay.clientRun());
    for (const host of [DOMAIN, `shop.${DOMAIN}`, `${client.id}.${DOMAIN}`]) assert.ok((await relay.served(host)).authorized, host);
    const { stdout } = await relay.curl(`shop.${DOMAIN}`, "/wild", ["-H", `x-petit-token: ${client.token}`]);
    assert.equal((JSON.parse(stdout) as { url: string }).url, "/wild");
    assert.equal(relay.log().match(/acme: certificate .* issued in/g)?.length, 1);
    assert.match(relay.log(), new RegExp(`acme: certificate "relay" \\(${DOMAIN}, \\*\\.${DOMAIN}\\) issued in`));
    assert.match(readFileSync(hookLog, "utf8"), new RegExp(`^add _acme-challenge\\.${DOMAIN} \\S{43}$`, "m"));
  });
});

describe("HTTPS by ACME with several relays sharing a store: whichever relay the CA reaches answers an HTTP-01 challenge", { skip: postgresSkipReason() }, () => {
  let postgres: TestPostgres | undefined;
  let store: string;
  let pebble: Pebble | undefined;
  /** Relay B (127.0.0.2, where the relay's name resolves), then relay A (127.0.0.1): one plain port number, as behind one name. */
  const relays: AcmeRelay[] = [];

  before(async () => {
    postgres = await startPostgres();
    store = await postgres.createDatabase("petit");
    const httpPort = await freePort();
    pebble = await startPebble({ httpPort, tlsPort: await freePort() });
    // Every validation of the relay's own name goes to relay B: relay A's challenge for it is asked of B.
    await pebble.addA(DOMAIN, ["127.0.0.2"]);
    relays.push(await startAcmeRelay({ pebble, httpPort, listen: "127.0.0.2", store }));
  });
  after(async () => {
    for (const relay of relays) await relay.stop();
    await pebble?.stop();
    await postgres?.stop();
  });

  test("relay A gets its certificate for the relay's name while the CA validates at relay B, which answers A's challenge from the store", async (t) => {
    // startAcmeRelay returns once the relay serves a valid certificate for DOMAIN (within 60 s): A's order went through B.
    const a = await startAcmeRelay({ pebble, httpPort: relays[0].ports.http, listen: "127.0.0.1", store });
    relays.push(a);
    assert.match(a.log(), new RegExp(`acme: certificate "relay" \\(${DOMAIN}\\) issued in [\\d.]+ s`));
    assert.equal((await a.served(DOMAIN)).authorized, true);
    t.diagnostic(`relay A: petit server up → valid certificate, validated at relay B: ${a.certificateMs} ms`);
    // The challenge was removed from the store once the order was done.
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    try {
      assert.equal((await db.query("SELECT token FROM petit_acme_challenges")).rowCount, 0);
    } finally {
      await db.end();
    }
  });
});

