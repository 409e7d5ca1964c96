/**
 * One-hop forwarding between relays sharing a real PostgreSQL store: relay
 * B holds the tunnels (real sshd and ssh), a visitor reaches relay A, which
 * forwards HTTP, WebSocket and CONNECT to B with a signed line. Forged and
 * replayed lines are refused through the real relays, a second hop is
 * refused, and a network partition between the relays (an nftables table
 * the test adds and deletes) gives 502 naming the holder, not a hang.
 *
 * Relay B listens on every address and is reached by relay A at 127.0.0.2
 * (its server.node_address), while visitors use 127.0.0.1: the partition
 * drops relay-to-relay packets only.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import pg from "pg";
import { signPreamble } from "../../lib/server/proxy/peer-preamble.ts";
import { petitOk } from "../helpers/petit.ts";
import { registerClient, startRelay, waitFor, DOMAIN, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { startEchoServer, startProtocolOrigin, type ProtocolOrigin } from "../helpers/protocol-origin.ts";
import { RawConnection, requestHead, type RawResponse } from "../helpers/raw-http.ts";
import { postgresSkipReason, startPostgres, type TestPostgres } from "../helpers/postgres.ts";

const skip = postgresSkipReason();
/** The visitor's own loopback address: distinct from the relays' 127.0.0.1, so X-Forwarded-For tells them apart. */
const VISITOR = "127.0.0.5";
/** The nftables table the partition lives in; deleted in after() too. */
const TABLE = "petit_partition_test";

/** Sends one request on a new connection from VISITOR to `port` and reads the answer. */
async function ask(port: number, head: string, timeoutMs = 15_000): Promise<RawResponse & { ms: number }> {
  const started = performance.now();
  const conn = await RawConnection.open(port, 5_000, VISITOR);
  try {
    conn.write(head);
    const res = await conn.readResponse({ timeoutMs });
    return { ...res, ms: performance.now() - started };
  } finally {
    conn.close();
  }
}

/** Requests and pipes `relay`'s proxy counted for client `id` (`petit server clients --json`). */
async function servedBy(relay: Relay, id: number): Promise<number> {
  const rows = JSON.parse(await petitOk(relay.home, ["server", "clients", "--json"])) as Array<{ id: number; connections_total: number }>;
  return rows.find((r) => r.id === id)?.connections_total ?? 0;
}

/** Makes sure `nft` is there (installing Debian's nftables as root, as scripts/ensure-openssh.sh does for OpenSSH). */
async function ensureNft(): Promise<string | undefined> {
  if ((await execa("nft", ["--version"], { reject: false })).exitCode === 0) return undefined;
  if (process.getuid?.() !== 0) return "nft is missing and the test is not root: apt-get install -y nftables";
  await execa("apt-get", ["install", "-y", "-qq", "nftables"], { reject: false, env: { DEBIAN_FRONTEND: "noninteractive" } });
  return (await execa("nft", ["--version"], { reject: false })).exitCode === 0 ? undefined : "cannot install nftables";
}

/** One PostgreSQL for the whole file (a database per pair of relays): starting it is the slow part. */
let postgres: TestPostgres | undefined;
const databases = { made: 0 };
async function freshStore(): Promise<string> {
  postgres ??= await startPostgres();
  return postgres.createDatabase(`petit${++databases.made}`);
}
after(async () => {
  await postgres?.stop();
});

describe("a visitor may reach any relay: the others forward one hop to the relay holding the tunnel", { skip }, () => {
  let secret: string;
  let a: Relay;
  let b: Relay;
  let origin: ProtocolOrigin;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let web: Client;
  let tcp: Client;
  const webHost = () => `${web.id}.${DOMAIN}`;
  /** CONNECT to the TCP client's echo service through `relay`: true once bytes came back. */
  const connectThrough = async (relay: Relay) => {
    const target = `${tcp.id}.${DOMAIN}:7`;
    const conn = await RawConnection.open(relay.httpPort, 5_000, VISITOR);
    try {
      conn.write(requestHead(`CONNECT ${target} HTTP/1.1`, [`Host: ${target}`, `Proxy-Authorization: Bearer ${tcp.accessToken}`]));
      assert.equal((await conn.readHead(10_000)).statusLine, "HTTP/1.1 200 Connection Established");
      conn.write("raw bytes\n");
      return (await conn.readBytes(10, 10_000)).toString() === "raw bytes\n";
    } finally {
      conn.close();
    }
  };
  const get = (path: string, extra: string[] = []) =>
    requestHead(`GET ${path} HTTP/1.1`, [`Host: ${webHost()}`, `Proxy-Authorization: Bearer ${web.accessToken}`, "Connection: close", ...extra]);

  before(async () => {
    const store = await freshStore();
    [origin, echo] = await Promise.all([startProtocolOrigin(), startEchoServer()]);
    // Started together, as relays often are: the schema is migrated once, under the store's lock.
    [a, b] = await Promise.all([
      startRelay({ config: { store } }),
      startRelay({ listen: "0.0.0.0", config: ({ httpPort }) => ({ store, node_address: `127.0.0.2:${httpPort}` }) }),
    ]);
    [web, tcp] = await Promise.all([
      registerClient(b, { name: "fwd-web", target: `127.0.0.1:${origin.port}` }),
      registerClient(b, { name: "fwd-tcp", target: `127.0.0.1:${echo.port}` }),
    ]);
    await Promise.all([web.up(), tcp.up()]);
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    secret = (await db.query<{ value: string }>("SELECT value FROM petit_meta WHERE key = 'node_secret'")).rows[0].value;
    await db.end();
    // Relay A learns from the store that B holds the tunnels: presence within ~2 s, A's read within 1 s more. Until
    // then A serves them itself: on one machine the relays share 127.0.0.1, where B's tunnels listen. So each
    // request is counted where it was served: the wait is over once B counts one that went to A.
    const through = async (client: Client, send: () => Promise<boolean>) => {
      const before = await servedBy(b, client.id);
      return (await send()) && (await servedBy(b, client.id)) > before;
    };
    await waitFor(() => through(web, async () => (await ask(a.httpPort, get("/ready"))).status === 200), 30_000,
      "relay A to forward the web client's visitors to relay B");
    await waitFor(() => through(tcp, () => connectThrough(a)), 30_000, "relay A to forward the TCP client's visitors to relay B");
  });

  after(async () => {
    await execa("nft", ["delete", "table", "inet", TABLE], { reject: false });
    for (const client of [web, tcp]) await client?.stop();
    for (const relay of [a, b]) await relay?.stop();
    await origin?.close();
    await echo?.close();
  });

  test("an HTTP request through relay A reaches the service on relay B, which sees the visitor's address and no petit credentials", async () => {
    const before = await servedBy(b, web.id);
    const res = await ask(a.httpPort, get("/hello?x=1", ["X-Forwarded-For: 6.6.6.6", "X-Petit-Token: leaked?"]));
    assert.equal(res.status, 200, res.text);
    assert.equal(await servedBy(b, web.id), before + 1, "relay B served it");
    const seen = origin.seen.findLast((r) => r.url === "/hello?x=1")!;
    assert.equal(seen.headers["x-forwarded-for"], VISITOR, "the visitor as relay A saw it, not relay A, not what the visitor wrote");
    assert.equal(seen.headers["x-real-ip"], VISITOR);
    assert.equal(seen.headers.host, webHost());
    for (const [name, value] of Object.entries(seen.headers)) {
      assert.doesNotMatch(name, /petit|authorization/i, "no petit field or credential reaches the service");
      assert.doesNotMatch(String(value), /PETIT-NODE/, `the relays' line reached the service in ${name}`);
      assert.ok(!String(value).includes(web.accessToken), `the access token reached the service in ${name}`);
    }
  });

  test("without its access token a request is refused by relay A with 407, and never reaches relay B's service", async () => {
    const before = origin.seen.length;
    const res = await ask(a.httpPort, requestHead("GET /no-token HTTP/1.1", [`Host: ${webHost()}`, "Connection: close"]));
    assert.equal(res.status, 407);
    assert.match(res.text, /needs its access token/);
    assert.equal(origin.seen.length, before);
  });

  test("a WebSocket handshake through relay A gets 101 from the service on relay B, then bytes flow both ways", async () => {
    const conn = await RawConnection.open(a.httpPort, 5_000, VISITOR);
    try {
      conn.write(requestHead("GET /chat HTTP/1.1", [
        `Host: ${webHost()}`, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13", `Proxy-Authorization: Bearer ${web.accessToken}`,
      ]));
      const head = await conn.readHead(10_000);
      assert.equal(head.statusLine, "HTTP/1.1 101 Switching Protocols");
      assert.equal(head.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
      for (const message of [Buffer.from("hello"), randomBytes(256 * 1024)]) {
        conn.write(message);
        assert.ok((await conn.readBytes(message.length, 10_000)).equals(message));
      }
      const seen = origin.seen.findLast((r) => r.url === "/chat")!;
      assert.equal(seen.headers["x-forwarded-for"], VISITOR);
      assert.equal(seen.headers["proxy-authorization"], undefined);
    } finally {
      conn.close();
    }
  });

  test("CONNECT through relay A opens a raw pipe to the TCP service on relay B", async () => {
    assert.ok(await connectThrough(a));
  });

  test("a visitor's forged relay line is refused by either relay and cannot make the service believe another address", async () => {
    const forged = signPreamble("0".repeat(64), "relay-a", "203.0.113.9");
    for (const relay of [b, a]) {
      const res = await ask(relay.httpPort, Buffer.concat([forged, Buffer.from(get("/forged"))]).toString("latin1"));
      assert.equal(res.status, 403, res.text);
      assert.match(res.text, /^petit: refused a relay-to-relay connection: the signature does not match the store's node secret/);
    }
    // A line after the first bytes is no relay's: it is a malformed request. Through relay A it reaches B after A's own line.
    const late = await ask(a.httpPort, get("/first", []).replace("Connection: close\r\n", "") +
      signPreamble(secret, "relay-a", "203.0.113.9").toString("latin1") + get("/forged"));
    assert.equal(late.status, 200, "the first request is answered");
    assert.equal(origin.seen.filter((r) => r.url === "/forged").length, 0, "the forged request never reached the service");
    assert.ok(origin.seen.every((r) => !String(r.headers["x-forwarded-for"]).includes("203.0.113.9")));
  });

  test("a genuine relay line seen on the wire is good once: replayed, it is refused", async () => {
    const line = signPreamble(secret, "relay-a", "198.51.100.7");
    const first = await ask(b.httpPort, Buffer.concat([line, Buffer.from(get("/replayed"))]).toString("latin1"));
    assert.equal(first.status, 200, first.text);
    assert.equal(origin.seen.findLast((r) => r.url === "/replayed")?.headers["x-forwarded-for"], "198.51.100.7");
    const again = await ask(b.httpPort, Buffer.concat([line, Buffer.from(get("/replayed-again"))]).toString("latin1"));
    assert.equal(again.status, 403);
    assert.match(again.text, /the line was used before \(a replay\)/);
  });

  test("a request forwarded to a relay that does not hold the tunnel gets 502 saying it is not forwarded again", async () => {
    const line = signPreamble(secret, "relay-c", VISITOR);
    const res = await ask(a.httpPort, Buffer.concat([line, Buffer.from(get("/second-hop"))]).toString("latin1"));
    assert.equal(res.status, 502);
    assert.match(res.text, new RegExp(`^petit: tunnel ${web.id} is held by relay 127\\.0\\.0\\.2:${b.httpPort}, not by this one; ` +
      "relay relay-c forwarded this request here, and a forwarded request is not forwarded again"));
  });

  test("the store made one node secret (schema migration 3): 64 hex digits, 244 random bits from two random UUIDs", () => {
    assert.match(secret, /^[0-9a-f]{64}$/);
  });

  test("100 requests, 20 at a time, through relay A all reach the service on relay B", async () => {
    const before = await servedBy(b, web.id);
    const statuses: number[] = [];
    await Promise.all(Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 5; i++) statuses.push((await ask(a.httpPort, get("/parallel"))).status);
    }));
    assert.deepEqual(statuses, new Array(100).fill(200));
    assert.equal((await servedBy(b, web.id)) - before, 100);
  });

  test("260 connections forwarded at once count against their visitors' limit (256 each), not against relay A's address", async () => {
    // Two visitors, 130 connections each: under the limit at relay A and, once each is counted as its visitor, at relay B.
    const conns = await Promise.all(Array.from({ length: 260 }, (_, i) => RawConnection.open(a.httpPort, 10_000, i % 2 ? "127.0.0.6" : VISITOR)));
    try {
      const round = () => Promise.all(conns.map(async (conn) => {
        conn.write(get("/many").replace("Connection: close\r\n", ""));
        return (await conn.readResponse({ timeoutMs: 30_000 }).catch((error) => ({ status: String(error.message) }))).status;
      }));
      assert.deepEqual(await round(), new Array(260).fill(200), "every connection is answered");
      assert.deepEqual(await round(), new Array(260).fill(200), "and stays open for a second request");
    } finally {
      for (const conn of conns) conn.close();
    }
  });

  test("one kept-alive connection to relay A may name a tunnel relay B holds, then one A holds, then B's again: each request is routed on its own", async () => {
    // What a load balancer in front does: one upstream connection carries requests for many hosts.
    const own = await startOrigin("held-by-relay-a");
    const local = await registerClient(a, { name: "fwd-local", target: `127.0.0.1:${own.port}` });
    try {
      await local.up();
      const head = (client: Client, path: string) =>
        requestHead(`GET ${path} HTTP/1.1`, [`Host: ${client.id}.${DOMAIN}`, `Proxy-Authorization: Bearer ${client.accessToken}`]);
      await waitFor(async () => (await ask(a.httpPort, head(local, "/ready").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"))).status === 200,
        20_000, "relay A to serve its own tunnel");
      const before = { web: await servedBy(b, web.id), local: await servedBy(a, local.id) };
      const conn = await RawConnection.open(a.httpPort, 5_000, VISITOR);
      const answers: string[] = [];
      try {
        for (const [client, path] of [[web, "/kept/1"], [local, "/kept/2"], [web, "/kept/3"], [local, "/kept/4"]] as const) {
          conn.write(head(client, path));
          const res = await conn.readResponse({ timeoutMs: 10_000 });
          answers.push(`${path} ${res.status} ${res.status === 200 ? "" : res.text}`.trim());
        }
      } finally {
        conn.close();
      }
      assert.deepEqual(answers, ["/kept/1 200", "/kept/2 200", "/kept/3 200", "/kept/4 200"]);
      // Each went to its own service: B's origin saw the odd ones, A's own origin the even ones.
      assert.ok(origin.seen.some((r) => r.url === "/kept/1") && origin.seen.some((r) => r.url === "/kept/3"));
      assert.ok(!origin.seen.some((r) => r.url === "/kept/2" || r.url === "/kept/4"), "relay B's service got a request for relay A's tunnel");
      assert.equal(await servedBy(b, web.id), before.web + 2, "relay B served the two requests for its tunnel");
      assert.equal(await servedBy(a, local.id), before.local + 2, "relay A served the two for its own");
    } finally {
      await local.stop();
      await own.close();
    }
  });

  test("forwarding costs one more hop: time per request through relay A against relay B directly", async () => {
    const median = async (port: number) => {
      const times: number[] = [];
      for (let i = 0; i < 60; i++) times.push((await ask(port, get("/timed"))).ms);
      return times.sort((x, y) => x - y)[times.length >> 1];
    };
    /** Median time of a request on one kept-alive connection (relay A pipes it to B after the first). */
    const keptAlive = async (port: number) => {
      const conn = await RawConnection.open(port, 5_000, VISITOR);
      const times: number[] = [];
      try {
        for (let i = 0; i < 200; i++) {
          const started = performance.now();
          conn.write(get("/timed").replace("Connection: close\r\n", ""));
          assert.equal((await conn.readResponse({ timeoutMs: 10_000 })).status, 200);
          times.push(performance.now() - started);
        }
      } finally {
        conn.close();
      }
      return times.sort((x, y) => x - y)[times.length >> 1];
    };
    await median(b.httpPort);
    const direct = await median(b.httpPort);
    const forwarded = await median(a.httpPort);
    const directKept = await keptAlive(b.httpPort);
    const forwardedKept = await keptAlive(a.httpPort);
    console.log(`RELAYS ${JSON.stringify({
      new_connection_direct_median_ms: +direct.toFixed(2), new_connection_forwarded_median_ms: +forwarded.toFixed(2),
      kept_alive_direct_median_ms: +directKept.toFixed(3), kept_alive_forwarded_median_ms: +forwardedKept.toFixed(3),
    })}`);
    // Generous: the machine is shared; the figure is what matters, the bound only catches a hang or a retry loop.
    assert.ok(forwarded < direct + 250, `forwarded ${forwarded} ms against ${direct} ms directly`);
  });

  test("a network partition between the relays gives 502 naming the holder within seconds, and forwarding works again once it heals", async (t) => {
    const missing = await ensureNft();
    if (missing) return t.skip(missing);
    // Drops relay A's packets to relay B's node address only; visitors reach both relays at 127.0.0.1 as before.
    const rules = `table inet ${TABLE} {\n chain out {\n  type filter hook output priority 0; policy accept;\n` +
      `  ip daddr 127.0.0.2 tcp dport ${b.httpPort} drop\n }\n}\n`;
    await execa("nft", ["-f", "-"], { input: rules });
    let cut: RawResponse & { ms: number };
    try {
      cut = await ask(a.httpPort, get("/partitioned"), 20_000);
      assert.equal(cut.status, 502, cut.text);
      assert.match(cut.text, new RegExp(`^petit: tunnel ${web.id} is held by relay 127\\.0\\.0\\.2:${b.httpPort}, which cannot be reached ` +
        `at 127\\.0\\.0\\.2:${b.httpPort}: no connection within 3 s`));
      assert.ok(cut.ms < 10_000, `the 502 took ${cut.ms} ms`);
      // Relay B itself still serves its tunnel: only the path between the relays is cut.
      assert.equal((await ask(b.httpPort, get("/direct-during-partition"))).status, 200);
    } finally {
      await execa("nft", ["delete", "table", "inet", TABLE]);
    }
    const healed = performance.now();
    await waitFor(async () => (await ask(a.httpPort, get("/healed"))).status === 200, 15_000, "forwarding to work again after the partition");
    console.log(`RELAYS ${JSON.stringify({ partition_502_ms: Math.round(cut!.ms), healed_to_200_ms: Math.round(performance.now() - healed) })}`);
  });
});

/** Sends `head` over TLS to 127.0.0.1:`port` (any certificate: the test checks the relays', not its own) and returns what came back until close. */
function askTls(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: "127.0.0.1", port, servername: `x.${DOMAIN}`, rejectUnauthorized: false }, () => socket.end(head));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer from 127.0.0.1:${port} within 15 s`)));
  });
}

describe("relays whose proxies speak TLS forward over TLS, checking the holder's certificate for the tunnel's name", { skip }, () => {
  let dir: string;
  let a: Relay;
  let b: Relay;
  let origin: ProtocolOrigin;
  let web: Client;

  before(async () => {
    const store = await freshStore();
    dir = mkdtempSync(join(tmpdir(), "petit-fwd-tls-"));
    const cert = join(dir, "relay.crt");
    const key = join(dir, "relay.key");
    // One certificate for the domain on both relays, as a wildcard certificate would be.
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
      "-subj", `/CN=*.${DOMAIN}`, "-addext", `subjectAltName=DNS:*.${DOMAIN},IP:127.0.0.1`, "-keyout", key, "-out", cert], { stdio: "ignore" });
    origin = await startProtocolOrigin();
    [a, b] = await Promise.all([
      startRelay({ config: { store, tls_cert: cert, tls_key: key } }),
      startRelay({ listen: "0.0.0.0", config: ({ httpPort }) => ({ store, tls_cert: cert, tls_key: key, node_address: `127.0.0.2:${httpPort}` }) }),
    ]);
    b.apiUrl = b.apiUrl.replace("http:", "https:");
    // The CLI trusts the test's certificate the way Node does everywhere (as in tls-and-limits.test.ts).
    process.env.NODE_EXTRA_CA_CERTS = cert;
    web = await registerClient(b, { name: "fwd-tls", target: `127.0.0.1:${origin.port}` });
    await web.up();
  });

  after(async () => {
    delete process.env.NODE_EXTRA_CA_CERTS;
    await web?.stop();
    for (const relay of [a, b]) await relay?.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an HTTPS request to relay A reaches the service on relay B with the visitor's address", async () => {
    const head = requestHead("GET /over-tls HTTP/1.1", [`Host: ${web.id}.${DOMAIN}`, `Proxy-Authorization: Bearer ${web.accessToken}`, "Connection: close"]);
    let answer = "";
    await waitFor(async () => {
      const before = await servedBy(b, web.id);
      answer = await askTls(a.httpPort, head);
      return answer.startsWith("HTTP/1.1 200") && (await servedBy(b, web.id)) > before;
    }, 30_000, "relay A to forward to relay B over TLS").catch((error) => {
      throw new Error(`${error.message}; last answer: ${answer.slice(0, 300)}`);
    });
    const seen = origin.seen.findLast((r) => r.url === "/over-tls")!;
    assert.equal(seen.headers["x-forwarded-proto"], "https");
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
  });
});
