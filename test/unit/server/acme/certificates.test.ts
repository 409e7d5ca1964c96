/**
 * AcmeCertificates with a stand-in CA (self-signed certificates from
 * openssl): what it orders and when, what it serves per SNI, what it keeps
 * across a restart, and how it backs off after a failure.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SecureContext } from "node:tls";
import { AcmeFiles, type StoredCertificate } from "../../../../lib/server/acme/acme-files.ts";
import { AcmeCertificates, type WantedCertificate } from "../../../../lib/server/acme/certificates.ts";
import { wantedCertificates } from "../../../../lib/server/acme/acme.ts";
import type { ClientRecord } from "../../../../lib/server/registry/records.ts";

const DAY = 86_400_000;

/** A self-signed certificate for `names`, valid `days`. */
function selfSigned(dir: string, names: string[], days = 90): StoredCertificate {
  const [key, cert] = [join(dir, "k.pem"), join(dir, "c.pem")];
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", String(days),
    "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`, "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { names, cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

/** Lets pending orders finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe("AcmeCertificates", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "petit-acme-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A keeper over a fresh (or given) state folder whose CA is `issue`; `wanted` can be changed by the test. */
  const keeper = (state: string, issue: (names: string[]) => Promise<StoredCertificate>, wanted: WantedCertificate[]) => {
    const lines: string[] = [];
    const certificates = new AcmeCertificates({
      issue, files: new AcmeFiles(state), wanted: () => wanted, renewBeforeMs: 30 * DAY, checkIntervalMs: 3600_000, log: (l) => lines.push(l),
    });
    return { certificates, lines };
  };
  const sni = (certificates: AcmeCertificates, name: string) =>
    new Promise<SecureContext | undefined>((resolve) => certificates.sniCallback(name, (_e, context) => resolve(context)));

  test("orders one certificate at a time, the relay's first, and keeps each 0600", async () => {
    const state = join(dir, "order");
    const ordered: string[][] = [];
    const { certificates, lines } = keeper(state, async (names) => (ordered.push(names), selfSigned(dir, names)), [
      { label: "relay", names: ["relay.example.com"] }, { label: "client-1001", names: ["1001.relay.example.com", "shop.relay.example.com"] },
    ]);
    certificates.tick();
    certificates.tick();
    await settle();
    assert.deepEqual(ordered, [["relay.example.com"]]);
    certificates.tick();
    await settle();
    assert.deepEqual(ordered.map((n) => n[0]), ["relay.example.com", "1001.relay.example.com"]);
    assert.equal(statSync(join(state, "certs/client-1001.json")).mode & 0o777, 0o600);
    assert.match(lines.join("\n"), /acme: certificate "client-1001" \(1001\.relay\.example\.com, shop\.relay\.example\.com\) issued in/);
    assert.ok(certificates.status().every((s) => s.not_after && Date.parse(s.next_attempt) > Date.now() + 59 * DAY));
  });

  test("serves the certificate holding the SNI name, the relay's for any other name, and orders nothing for an SNI name", async () => {
    const ordered: string[][] = [];
    const { certificates } = keeper(join(dir, "sni"), async (names) => (ordered.push(names), selfSigned(dir, names)), [
      { label: "relay", names: ["relay.example.com"] }, { label: "client-1001", names: ["1001.relay.example.com", "shop.relay.example.com"] },
    ]);
    for (let i = 0; i < 3; i++) (certificates.tick(), await settle());
    const relay = await sni(certificates, "relay.example.com");
    const shop = await sni(certificates, "SHOP.relay.example.com");
    assert.ok(relay && shop && relay !== shop);
    assert.equal(await sni(certificates, "1001.relay.example.com"), shop);
    assert.equal(await sni(certificates, "evil.relay.example.com"), relay);
    certificates.tick();
    await settle();
    assert.equal(ordered.length, 2);
  });

  test("reuses kept certificates after a restart and orders nothing until they are due", async () => {
    const state = join(dir, "restart");
    const wanted = [{ label: "relay", names: ["relay.example.com"] }];
    const first = keeper(state, async (names) => selfSigned(dir, names), wanted);
    first.certificates.tick();
    await settle();
    let orders = 0;
    const second = keeper(state, async (names) => (orders++, selfSigned(dir, names)), wanted);
    second.certificates.tick();
    await settle();
    assert.equal(orders, 0);
    assert.ok(await sni(second.certificates, "relay.example.com"));
    // A kept certificate within renew_before_days of its end is renewed at once.
    new AcmeFiles(state).saveCertificate("relay", selfSigned(dir, ["relay.example.com"], 10));
    const third = keeper(state, async (names) => (orders++, selfSigned(dir, names)), wanted);
    third.certificates.tick();
    await settle();
    assert.equal(orders, 1);
  });

  test("a failed order is logged and retried after a doubling backoff, while the old certificate is still served", async () => {
    const state = join(dir, "failing");
    const wanted = [{ label: "relay", names: ["relay.example.com"] }];
    new AcmeFiles(state).saveCertificate("relay", selfSigned(dir, ["relay.example.com"], 10));
    const { certificates, lines } = keeper(state, async () => {
      throw new Error("Authorization not valid:\n  connection refused");
    }, wanted);
    certificates.tick();
    await settle();
    const [status] = certificates.status();
    assert.equal(status.failures, 1);
    assert.equal(status.last_error, "Authorization not valid: connection refused");
    assert.ok(Math.abs(Date.parse(status.next_attempt) - Date.now() - 300_000) < 5_000);
    assert.match(lines.at(-1)!, /failed \(attempt 1\): Authorization not valid: connection refused; next attempt in 300 s \(the current certificate is still served\)/);
    assert.ok(await sni(certificates, "relay.example.com"));
    certificates.tick(Date.parse(status.next_attempt) + 1);
    await settle();
    assert.equal(certificates.status()[0].failures, 2);
    assert.match(lines.at(-1)!, /next attempt in 600 s/);
    assert.deepEqual(certificates.counts(), { issued: 0, failed: 2 });
  });

  test("a revoked client's certificate is no longer served, and a renamed one is ordered again", async () => {
    const wanted: WantedCertificate[] = [{ label: "relay", names: ["relay.example.com"] }, { label: "client-1001", names: ["1001.relay.example.com"] }];
    const ordered: string[][] = [];
    const { certificates } = keeper(join(dir, "revoke"), async (names) => (ordered.push(names), selfSigned(dir, names)), wanted);
    for (let i = 0; i < 2; i++) (certificates.tick(), await settle());
    wanted[1] = { label: "client-1001", names: ["1001.relay.example.com", "shop.relay.example.com"] };
    certificates.tick();
    await settle();
    assert.deepEqual(ordered.at(-1), ["1001.relay.example.com", "shop.relay.example.com"]);
    wanted.pop();
    certificates.tick();
    assert.equal(await sni(certificates, "shop.relay.example.com"), await sni(certificates, "relay.example.com"));
    assert.deepEqual(certificates.status().map((s) => s.label), ["relay"]);
  });
});

describe("wantedCertificates()", () => {
  test("wants the relay's own name, then per client its ID, name and tunnel names under the domain", () => {
    const clients = [
      { id: 1001, name: "Shop", tunnels: [{ name: "admin", port: 11001 }] },
      { id: 1002, name: "" },
    ] as unknown as ClientRecord[];
    assert.deepEqual(wantedCertificates("relay.example.com", clients), [
      { label: "relay", names: ["relay.example.com"] },
      { label: "client-1001", names: ["1001.relay.example.com", "shop.relay.example.com", "admin.relay.example.com"] },
      { label: "client-1002", names: ["1002.relay.example.com"] },
    ]);
  });
});
