/**
 * What travels through the proxy besides plain requests: WebSocket upgrades,
 * raw TCP with CONNECT and `petit connect`, server-sent events, chunked
 * bodies, 100-continue, trailers, HEAD, long polls, and which headers the
 * origin sees. Real relay, real clients, real origins, the real CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { request } from "undici";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { makeHome } from "../helpers/petit.ts";
import { spawnPetit } from "../helpers/petit-process.ts";
import { freePort } from "../helpers/ports.ts";
import { patternBytes, startEchoServer, startProtocolOrigin, type ProtocolOrigin } from "../helpers/protocol-origin.ts";
import { RawConnection, rawRequest, requestHead } from "../helpers/raw-http.ts";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("protocols through the proxy", () => {
  let relay: Relay;
  let origin: ProtocolOrigin;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let web: Client;
  let tcp: Client;
  let visitorHome: ReturnType<typeof makeHome>;

  before(async () => {
    origin = await startProtocolOrigin();
    echo = await startEchoServer();
    visitorHome = makeHome("visitor");
    relay = await startRelay();
    web = await registerClient(relay, { name: "web", target: `127.0.0.1:${origin.port}` });
    tcp = await registerClient(relay, { name: "echo", target: `127.0.0.1:${echo.port}` });
    await web.up();
    await tcp.up();
  });

  after(async () => {
    await tcp?.stop();
    await web?.stop();
    await relay?.stop();
    await echo?.close();
    await origin?.close();
    visitorHome?.remove();
  });

  const webHost = () => `web.${DOMAIN}`;
  const proxyUrl = (path: string) => `http://127.0.0.1:${relay.httpPort}${path}`;
  /** Headers that address the web client and carry its access token. */
  const tokenHeaders = () => ({ host: webHost(), "proxy-authorization": `Bearer ${web.accessToken}` });

  test("a WebSocket handshake gets 101 with the accept value for its key, then bytes flow both ways", async () => {
    // The sample key of RFC 6455 §1.3, whose accept value the RFC gives.
    const key = "dGhlIHNhbXBsZSBub25jZQ==";
    const conn = await RawConnection.open(relay.httpPort);
    try {
      conn.write(requestHead("GET /chat HTTP/1.1", [
        `Host: ${webHost()}`, "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Key: ${key}`,
        "Sec-WebSocket-Version: 13", `Proxy-Authorization: Bearer ${web.accessToken}`,
      ]));
      const head = await conn.readHead();
      assert.equal(head.statusLine, "HTTP/1.1 101 Switching Protocols");
      assert.equal(head.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      assert.equal(head.headers.upgrade, "websocket");
      for (const message of [Buffer.from("hello"), randomBytes(256 * 1024)]) {
        conn.write(message);
        assert.ok((await conn.readBytes(message.length)).equals(message));
      }
      const seen = origin.seen.findLast((r) => r.url === "/chat")!;
      assert.equal(seen.headers["sec-websocket-key"], key);
      assert.equal(seen.headers["proxy-authorization"], undefined);
      assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
    } finally {
      conn.close();
    }
  });

  test("petit connect carries raw TCP to a client's echo service and exits 0 on SIGTERM; without a token it prints the relay's 407 reason", async () => {
    const args = (port: number) => [
      "connect", String(tcp.id), "--listen", `127.0.0.1:${port}`,
      "--relay", `http://127.0.0.1:${relay.httpPort}`, "--domain", DOMAIN,
    ];
    const port = await freePort();
    const cli = spawnPetit(visitorHome.dir, [...args(port), "--token", tcp.accessToken]);
    try {
      await cli.waitForStdout(new RegExp(`Listening on 127\\.0\\.0\\.1:${port} → ${tcp.id}\\.${DOMAIN}`));
      const conn = await RawConnection.open(port);
      try {
        for (const message of [Buffer.from("ping\n"), randomBytes(1024 * 1024)]) {
          conn.write(message);
          assert.ok((await conn.readBytes(message.length, 10_000)).equals(message));
        }
        // SIGTERM with a connection still open: the command ends it and exits 0 (not after the SIGKILL).
        assert.equal(await cli.stop(), 0, cli.stderr());
        await conn.closed();
      } finally {
        conn.close();
      }
    } finally {
      await cli.stop();
    }

    const bare = spawnPetit(visitorHome.dir, args(await freePort()));
    try {
      const [, barePort] = await bare.waitForStdout(/Listening on 127\.0\.0\.1:(\d+)/);
      const conn = await RawConnection.open(Number(barePort));
      try {
        conn.write("ping\n");
        assert.equal((await conn.closed()).length, 0, "nothing reaches the visitor without a token");
      } finally {
        conn.close();
      }
      await bare.waitForStderr(new RegExp(`the relay refused CONNECT to ${tcp.id}\\.${DOMAIN} \\(407\\): petit: this tunnel needs its access token`));
    } finally {
      await bare.stop();
    }
  });

  test("a CONNECT request by hand gets 407 without a token and 200 Connection Established with it", async () => {
    const target = `echo.${DOMAIN}:7`;
    const refused = await rawRequest(relay.httpPort, requestHead(`CONNECT ${target} HTTP/1.1`, [`Host: ${target}`]));
    assert.equal(refused.status, 407);
    assert.match(refused.headers["proxy-authenticate"], /^Bearer/);
    assert.match(refused.text, /^petit: this tunnel needs its access token/);

    const conn = await RawConnection.open(relay.httpPort);
    try {
      conn.write(requestHead(`CONNECT ${target} HTTP/1.1`, [`Host: ${target}`, `Proxy-Authorization: Bearer ${tcp.accessToken}`]));
      assert.equal((await conn.readHead()).statusLine, "HTTP/1.1 200 Connection Established");
      conn.write("raw bytes\n");
      assert.equal((await conn.readBytes(10)).toString(), "raw bytes\n");
    } finally {
      conn.close();
    }
  });

  test("server-sent events arrive as the origin writes them, not when the stream ends", async () => {
    const res = await request(proxyUrl("/sse"), { headers: tokenHeaders() });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "text/event-stream");
    let text = "";
    let firstAt = 0;
    for await (const chunk of res.body) {
      text += String(chunk);
      if (!firstAt && text.includes("data: one\n\n")) {
        firstAt = Date.now();
        assert.equal(origin.sse.secondSent, false, "the first event must arrive before the origin sends the second");
      }
    }
    assert.equal(text, "data: one\n\ndata: two\n\n");
    assert.ok(Date.now() - firstAt >= 300, `the second event came ${Date.now() - firstAt} ms after the first`);
  });

  test("a chunked upload and a chunked download of 8 MB stream through intact", async () => {
    const size = 8 * 1024 * 1024;
    const body = randomBytes(size);
    const upload = await request(proxyUrl("/upload"), {
      method: "POST", headers: tokenHeaders(),
      body: Readable.from((function* () { for (let at = 0; at < size; at += 300_000) yield body.subarray(at, at + 300_000); })()),
    });
    assert.equal(upload.statusCode, 200);
    assert.deepEqual(await upload.body.json(), { size, sha256: sha256(body) });

    const download = await request(proxyUrl(`/download?size=${size}`), { headers: tokenHeaders() });
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers["transfer-encoding"], "chunked");
    assert.equal(download.headers["content-length"], undefined);
    const got = Buffer.from(await download.body.arrayBuffer());
    assert.equal(got.length, size);
    assert.equal(sha256(got), sha256(patternBytes(size)));
  });

  test("three uploads at once, each on its own connection with its own bytes, arrive intact", async () => {
    // The proxy reads every plain connection into one shared buffer: bytes that outlive a read must have been copied out.
    const bodies = [0, 1, 2].map(() => randomBytes(3 * 1024 * 1024));
    const answers = await Promise.all(bodies.map(async (body) => {
      const res = await request(proxyUrl("/upload"), { method: "POST", headers: tokenHeaders(), body });
      assert.equal(res.statusCode, 200);
      return res.body.json();
    }));
    assert.deepEqual(answers, bodies.map((body) => ({ size: body.length, sha256: sha256(body) })));
  });

  test("a CONNECT pipe carries 4 MB to an echo service and back intact, and a request pipelined behind a small one too", async () => {
    const conn = await RawConnection.open(relay.httpPort);
    try {
      const target = `echo.${DOMAIN}:7`;
      conn.write(requestHead(`CONNECT ${target} HTTP/1.1`, [`Host: ${target}`, `Proxy-Authorization: Bearer ${tcp.accessToken}`]));
      assert.equal((await conn.readHead()).statusLine, "HTTP/1.1 200 Connection Established");
      const data = randomBytes(4 * 1024 * 1024);
      conn.write(data);
      assert.equal(sha256(await conn.readBytes(data.length, 60_000)), sha256(data));
    } finally {
      conn.close();
    }
    const body = randomBytes(100_000);
    const head = (len: number) => requestHead("POST /upload HTTP/1.1", [`Host: ${webHost()}`, `X-Petit-Token: ${web.accessToken}`, `Content-Length: ${len}`]);
    const pipelined = await RawConnection.open(relay.httpPort);
    try {
      // One write: a small request, then a large one whose head and body follow in the same bytes.
      pipelined.write(Buffer.concat([Buffer.from(head(3)), Buffer.from("abc"), Buffer.from(head(body.length)), body]));
      const first = await pipelined.readResponse();
      assert.deepEqual(JSON.parse(first.text), { size: 3, sha256: sha256(Buffer.from("abc")) });
      const second = await pipelined.readResponse();
      assert.deepEqual(JSON.parse(second.text), { size: body.length, sha256: sha256(body) });
    } finally {
      pipelined.close();
    }
  });

  test("Expect: 100-continue gets 100 Continue before the body is sent, then 200", async () => {
    const body = randomBytes(64 * 1024);
    const conn = await RawConnection.open(relay.httpPort);
    try {
      conn.write(requestHead("POST /upload HTTP/1.1", [
        `Host: ${webHost()}`, `X-Petit-Token: ${web.accessToken}`, `Content-Length: ${body.length}`, "Expect: 100-continue",
      ]));
      assert.equal((await conn.readHead()).statusLine, "HTTP/1.1 100 Continue");
      conn.write(body);
      const res = await conn.readResponse();
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.text).sha256, sha256(body));
    } finally {
      conn.close();
    }
  });

  test("response trailers from the origin reach the visitor", async () => {
    const expected = sha256(patternBytes(200_000));
    const res = await request(proxyUrl("/trailers"), { headers: tokenHeaders() });
    assert.equal(res.statusCode, 200);
    assert.equal(sha256(Buffer.from(await res.body.arrayBuffer())), expected);
    assert.equal(res.trailers["x-checksum"], expected);

    const raw = await rawRequest(relay.httpPort, requestHead("GET /trailers HTTP/1.1", [
      `Host: ${webHost()}`, `X-Petit-Token: ${web.accessToken}`, "Connection: close",
    ]));
    assert.equal(raw.headers["transfer-encoding"], "chunked");
    assert.equal(raw.trailers["x-checksum"], expected);
  });

  test("HEAD returns the origin's headers and no body", async () => {
    const conn = await RawConnection.open(relay.httpPort);
    try {
      conn.write(requestHead("HEAD /page HTTP/1.1", [`Host: ${webHost()}`, `X-Petit-Token: ${web.accessToken}`, "Connection: close"]));
      const all = (await conn.closed()).toString("latin1");
      const end = all.indexOf("\r\n\r\n");
      assert.match(all, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(all.slice(0, end), /\r\nx-origin: protocol-origin\r\n/i);
      assert.equal(all.slice(end + 4), "", "no body after the head");
      assert.equal(origin.seen.findLast((r) => r.url === "/page")?.method, "HEAD");
    } finally {
      conn.close();
    }
  });

  test("a long poll that the origin answers after 3 s comes through", async () => {
    const start = Date.now();
    const res = await request(proxyUrl("/slow"), { headers: tokenHeaders() });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), "late answer");
    assert.ok(Date.now() - start >= 2_900, `answered after ${Date.now() - start} ms`);
  });

  test("hop-by-hop headers and petit's token stop at the proxy, while the origin's own Authorization passes untouched", async () => {
    const basic = `Basic ${Buffer.from("alice:s3cret").toString("base64")}`;
    const res = await rawRequest(relay.httpPort, requestHead("GET /echo HTTP/1.1", [
      `Host: ${webHost()}`, "Connection: x-custom", "X-Custom: 1", "Keep-Alive: timeout=5", "TE: trailers",
      `Proxy-Authorization: Bearer ${web.accessToken}`, `X-Petit-Token: ${web.accessToken}`, `Authorization: ${basic}`,
      "X-End-To-End: kept",
    ]));
    assert.equal(res.status, 200);
    const { headers } = JSON.parse(res.text) as { headers: Record<string, string> };
    for (const name of ["x-custom", "keep-alive", "te", "proxy-authorization", "x-petit-token"]) {
      assert.equal(headers[name], undefined, `${name} must not reach the origin`);
    }
    assert.doesNotMatch(headers.connection ?? "", /x-custom/i);
    assert.equal(headers.authorization, basic);
    assert.equal(headers["x-end-to-end"], "kept");
  });

  test("X-Forwarded-For from an untrusted visitor is replaced, not appended to", async () => {
    const res = await viaProxy(relay, webHost(), "/xff", { headers: { "x-forwarded-for": "203.0.113.9, 198.51.100.1" } });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).headers["x-forwarded-for"], "127.0.0.1");
  });
});
