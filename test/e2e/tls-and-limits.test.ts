/**
 * HTTPS for the proxy and the API (with certificate reload on SIGHUP),
 * X-Forwarded-* from trusted proxies only, and the registration API's rate
 * limit on failed proofs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ConnectionOptions } from "node:tls";
import { Agent, request } from "undici";
import { makeProof } from "../../lib/proof.ts";
import { makeCert } from "../helpers/certificate.ts";
import { startOrigin } from "../helpers/origin.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";

/** Returns the SHA-256 fingerprint of the certificate 127.0.0.1:`port` presents. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

describe("HTTPS, trusted proxies and API limits", () => {
  const dir = mkdtempSync(join(tmpdir(), "petit-tls-"));
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let relay: Relay;
  let client: Client;
  let files: { cert: string; key: string };

  before(async () => {
    origin = await startOrigin("tls-origin");
    files = makeCert(dir, "first");
    relay = await startRelay({
      config: { tls_cert: files.cert, tls_key: files.key, trusted_proxies: ["127.0.0.1/32"] },
    });
    relay.apiUrl = relay.apiUrl.replace("http:", "https:");
    // The CLI trusts the test's certificate the way Node does everywhere: NODE_EXTRA_CA_CERTS.
    process.env.NODE_EXTRA_CA_CERTS = files.cert;
    client = await registerClient(relay, { name: "secure", target: `127.0.0.1:${origin.port}` });
    await client.up();
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the proxy speaks HTTPS and tells the service so in X-Forwarded-Proto", async () => {
    const agent = new Agent({ connect: { ca: readFileSync(files.cert, "utf8") } });
    const res = await request(`https://127.0.0.1:${relay.httpPort}/`, {
      dispatcher: agent, headers: { host: `secure.${DOMAIN}`, "x-petit-token": client.accessToken },
    });
    assert.equal(res.statusCode, 200);
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers["x-forwarded-proto"], "https");
    await agent.close();
  });

  test("a visitor that sends its request over TLS and then shuts its side still gets the whole answer", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      // Half-open on the visitor's side too: it reads after its FIN (node's tls.connect takes the net option at run time).
      const options = { host: "127.0.0.1", port: relay.httpPort, ca: readFileSync(files.cert, "utf8"), servername: `secure.${DOMAIN}`, allowHalfOpen: true };
      const socket = connect(options as ConnectionOptions, () => {
        socket.end(`GET / HTTP/1.1\r\nHost: secure.${DOMAIN}\r\nX-Petit-Token: ${client.accessToken}\r\nConnection: close\r\n\r\n`);
      });
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.once("end", () => resolve(text));
      socket.once("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /"x-forwarded-proto":"https"/);
  });

  test("the registration answer gives an https public URL", () => {
    const config = readFileSync(join(client.home, "config.toml"), "utf8");
    assert.match(config, new RegExp(`public_url = "https://${client.id}\\.${DOMAIN.replace(".", "\\.")}:${relay.httpPort}/"`));
  });

  test("SIGHUP loads a renewed certificate without a restart", async () => {
    const before = await servedFingerprint(relay.httpPort);
    assert.equal(before, new X509Certificate(readFileSync(files.cert)).fingerprint256);
    const renewed = makeCert(dir, "renewed");
    execFileSync("cp", [renewed.cert, files.cert]);
    execFileSync("cp", [renewed.key, files.key]);
    const pid = Number(readFileSync(join(relay.home, "server/serverd.pid"), "utf8"));
    process.kill(pid, "SIGHUP");
    const want = new X509Certificate(readFileSync(renewed.cert)).fingerprint256;
    await waitFor(async () => (await servedFingerprint(relay.httpPort)) === want, 5_000, "the renewed certificate");
    await waitFor(async () => (await servedFingerprint(relay.apiPort)) === want, 5_000, "the renewed API certificate");
    assert.equal(Number(readFileSync(join(relay.home, "server/serverd.pid"), "utf8")), pid);
  });

  test("X-Forwarded-For from a trusted proxy is kept and appended to", async () => {
    const agent = new Agent({ connect: { ca: readFileSync(files.cert, "utf8") } });
    const res = await request(`https://127.0.0.1:${relay.httpPort}/`, {
      dispatcher: agent,
      headers: { host: `secure.${DOMAIN}`, "x-petit-token": client.accessToken, "x-forwarded-for": "203.0.113.7" },
    });
    const seen = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    await agent.close();
  });
});

describe("the registration API's limit on failed proofs", () => {
  let relay: Relay;
  before(async () => {
    relay = await startRelay();
  });
  after(async () => relay?.stop());

  test("after 60 wrong proofs from one address in a minute, the next request gets 429 even with the right token", async () => {
    const send = async (token: string) => {
      const body = JSON.stringify({ public_key: "ssh-ed25519 AAAA" });
      const res = await request(`${relay.apiUrl}/v1/register`, {
        method: "POST", body, headers: { "content-type": "application/json", "x-petit-proof": makeProof(token, body) },
      });
      return { status: res.statusCode, retryAfter: res.headers["retry-after"], text: await res.body.text() };
    };
    for (let i = 0; i < 60; i++) assert.equal((await send("wrong")).status, 401, `attempt ${i + 1}`);
    const blocked = await send(relay.token);
    assert.equal(blocked.status, 429);
    assert.match(blocked.text, /too many failed registrations/);
    assert.ok(Number(blocked.retryAfter) >= 1);
    // The proxy is a separate door: it keeps serving.
    assert.equal((await viaProxy(relay, `nobody.${DOMAIN}`)).status, 404);
  });
});
