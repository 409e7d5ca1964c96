/**
 * answerTlsAlpnChallenges(): a TLS server that answers TLS-ALPN-01
 * validations (RFC 8737) with the challenge certificate acme-client makes,
 * and hands every other connection to its own TLS untouched; real sockets
 * on port 0, real handshakes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { BlockList, connect as connectTcp, createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type Server, type TLSSocket } from "node:tls";
import * as acme from "acme-client";
import { TlsAlpnChallenges } from "../../../../lib/server/acme/tls-alpn-challenges.ts";
import { acceptProxyProtocol } from "../../../../lib/server/proxy/proxy-protocol-accept.ts";
import { answerTlsAlpnChallenges } from "../../../../lib/server/proxy/tls-alpn-accept.ts";

const NAME = "1001.relay.example.com";
const KEY_AUTHORIZATION = "token-1.thumbprint";

describe("answerTlsAlpnChallenges()", () => {
  const dir = mkdtempSync(join(tmpdir(), "petit-tls-alpn-"));
  const challenges = new TlsAlpnChallenges();
  const logged: string[] = [];
  const visitors: TLSSocket[] = [];
  const dataListenersAtAccept: number[] = [];
  const clientErrors: string[] = [];
  let server: Server;
  let port: number;

  before(async () => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=the relay's own", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    // As the proxy: no ALPN protocols of its own (node then answers a hello offering some without the extension).
    server = createServer({ cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) });
    answerTlsAlpnChallenges(server, challenges, (line) => logged.push(line));
    // As the proxy's connection limit: added after, so it runs on every connection before TLS takes it.
    server.on("connection", (socket: Socket) => dataListenersAtAccept.push(socket.listenerCount("data")));
    server.on("secureConnection", (socket) => {
      visitors.push(socket);
      socket.end(`hello ${socket.servername}`);
    });
    server.on("tlsClientError", (error) => clientErrors.push(error.message));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const addChallenge = async () => {
    const key = await acme.crypto.createPrivateEcdsaKey();
    const authz = { identifier: { type: "dns", value: NAME } } as acme.Authorization;
    const [, cert] = await acme.crypto.createAlpnCertificate(authz, KEY_AUTHORIZATION, key);
    challenges.add(NAME, cert.toString(), key.toString());
  };

  /** A handshake through `to` (the server, or a port in front of it): what the client saw, and whether the server closed first. */
  const handshake = (options: { servername?: string; ALPNProtocols?: string[]; to?: number }) =>
    new Promise<{ alpn: string | false; subject: string; pem: string; received: string }>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: options.to ?? port, rejectUnauthorized: false, ...options }, () => {
        const cert = socket.getPeerX509Certificate()!;
        let received = "";
        socket.on("data", (chunk) => (received += chunk));
        socket.on("end", () => resolve({ alpn: socket.alpnProtocol ?? false, subject: cert.subject, pem: cert.toString(), received }));
      });
      socket.setTimeout(5_000, () => socket.destroy(new Error("the server did not close the connection within 5 s")));
      socket.on("error", reject);
    });

  test("a ClientHello offering only acme-tls/1 for a pending name gets the challenge certificate, and the connection is closed", async () => {
    await addChallenge();
    const before = visitors.length;
    const seen = await handshake({ servername: NAME, ALPNProtocols: ["acme-tls/1"] });
    assert.equal(seen.alpn, "acme-tls/1");
    assert.equal(seen.subject, `CN=${NAME}`);
    assert.ok(acme.crypto.isAlpnCertificateAuthorizationValid(seen.pem, KEY_AUTHORIZATION));
    assert.equal(seen.received, "", "the challenge connection carries no data");
    assert.equal(visitors.length, before, "the server's own TLS never saw it");
    assert.match(logged.at(-1)!, new RegExp(`acme: answered the TLS-ALPN-01 challenge for "${NAME}" to 127\\.0\\.0\\.1`));
  });

  test("every other ClientHello reaches the server's own TLS unchanged while a challenge is pending", async () => {
    await addChallenge();
    const others = [
      { servername: NAME, ALPNProtocols: ["h2", "acme-tls/1"] },
      { servername: NAME, ALPNProtocols: ["http/1.1"] },
      { servername: NAME },
      { servername: "other.relay.example.com", ALPNProtocols: ["acme-tls/1"] },
      { ALPNProtocols: ["acme-tls/1"] },
    ];
    for (const options of others) {
      const seen = await handshake(options);
      assert.equal(seen.subject, "CN=the relay's own", JSON.stringify(options));
      assert.equal(seen.received, `hello ${options.servername ?? "false"}`, JSON.stringify(options));
      assert.notEqual(seen.alpn, "acme-tls/1");
    }
  });

  test("with no challenge pending nothing looks at the connection, and acme-tls/1 gets the server's own certificate", async () => {
    challenges.remove(NAME);
    assert.equal(challenges.size, 0);
    dataListenersAtAccept.length = 0;
    const seen = await handshake({ servername: NAME, ALPNProtocols: ["acme-tls/1"] });
    assert.equal(seen.subject, "CN=the relay's own");
    assert.equal(seen.alpn, false, "no protocol in common");
    assert.deepEqual(dataListenersAtAccept, [0], "no reader on the raw connection");
  });

  test("a ClientHello that arrives a few bytes at a time is still read whole and answered", async () => {
    await addChallenge();
    const slow = await startDribble(port);
    try {
      const seen = await handshake({ servername: NAME, ALPNProtocols: ["acme-tls/1"], to: slow.port });
      assert.equal(seen.alpn, "acme-tls/1");
      const visitor = await handshake({ servername: NAME, ALPNProtocols: ["http/1.1"], to: slow.port });
      assert.equal(visitor.received, `hello ${NAME}`);
    } finally {
      await slow.close();
    }
  });

  test("bytes that are not a ClientHello go to TLS as they came, which fails them as it always did", async () => {
    await addChallenge();
    const errors = clientErrors.length;
    const answer = await new Promise<string>((resolve) => {
      const socket = connectTcp(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString("latin1")));
      socket.on("close", () => resolve(text));
      socket.on("error", () => {});
    });
    assert.ok(!answer.includes("HTTP/1.1 2"), "no HTTP answer");
    await waitFor(() => clientErrors.length > errors);
    assert.match(clientErrors.at(-1)!, /wrong version number|http request|unknown protocol|packet length/i);
  });

  test("a connection closed halfway through its ClientHello is let go", async () => {
    await addChallenge();
    await new Promise<void>((resolve) => {
      const socket = connectTcp(port, "127.0.0.1", () => socket.end(Buffer.from([22, 3, 1, 0, 200, 1, 0])));
      socket.on("close", () => resolve());
      socket.on("error", () => {});
    });
    assert.equal(await new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n))), 0);
  });
});

describe("answerTlsAlpnChallenges() behind a trusted balancer's PROXY header", () => {
  const dir = mkdtempSync(join(tmpdir(), "petit-tls-alpn-proxy-"));
  const challenges = new TlsAlpnChallenges();
  let server: Server;
  let port: number;

  before(async () => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=the relay's own", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    server = createServer({ cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) });
    // As proxy.ts orders them: the look at the ClientHello first, the PROXY header's reader last (so it runs first).
    answerTlsAlpnChallenges(server, challenges, () => {});
    const trusted = new BlockList();
    trusted.addAddress("127.0.0.1");
    acceptProxyProtocol(server, trusted, () => {});
    server.on("secureConnection", (socket) => socket.end("visitor"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    const key = await acme.crypto.createPrivateEcdsaKey();
    const [, cert] = await acme.crypto.createAlpnCertificate({ identifier: { type: "dns", value: NAME } } as acme.Authorization, KEY_AUTHORIZATION, key);
    challenges.add(NAME, cert.toString(), key.toString());
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS handshake after a PROXY v1 header: the ALPN protocol agreed and what the server sent. */
  const throughBalancer = (ALPNProtocols: string[]) => new Promise<{ alpn: string | false; received: string }>((resolve, reject) => {
    const raw = connectTcp(port, "127.0.0.1", () => {
      raw.write("PROXY TCP4 203.0.113.7 127.0.0.1 5123 443\r\n");
      const socket = connect({ socket: raw, servername: NAME, ALPNProtocols, rejectUnauthorized: false }, () => {
        let received = "";
        socket.on("data", (chunk) => (received += chunk));
        socket.on("end", () => resolve({ alpn: socket.alpnProtocol ?? false, received }));
      });
      socket.on("error", reject);
      socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
    });
    raw.on("error", reject);
  });

  test("a TLS-ALPN-01 validation that comes after a PROXY header is answered, and a visitor's handshake still served", async () => {
    assert.deepEqual(await throughBalancer(["acme-tls/1"]), { alpn: "acme-tls/1", received: "" });
    assert.deepEqual(await throughBalancer(["http/1.1"]), { alpn: false, received: "visitor" });
  });
});

/** A TCP port in front of `target` that passes the client's first 600 bytes on 7 at a time, then everything as it comes. */
async function startDribble(target: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((client) => {
    const upstream = connectTcp(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => (client.destroy(), upstream.destroy()));
    }
    let passed = 0;
    let chain = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      chain = chain.then(async () => {
        for (let at = 0; at < chunk.length;) {
          const step = passed < 600 ? 7 : chunk.length - at;
          upstream.write(chunk.subarray(at, at + step));
          at += step;
          passed += step;
          if (passed < 600) await new Promise((r) => setTimeout(r, 1));
        }
      });
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function waitFor(check: () => boolean): Promise<void> {
  for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() - start > 5_000) throw new Error("timed out after 5 s");
  }
}
