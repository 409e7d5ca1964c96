/**
 * Who may reach a client's service through the proxy: access tokens in their
 * three forms, `petit server access` (rotate, public, allow-from), the
 * failed-attempt rate limit, and malformed or hostile requests. Real relay,
 * real client, real origin, the real CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, type Client, type Relay } from "../helpers/fixture.ts";
import { rawRequest, requestHead, type RawResponse } from "../helpers/raw-http.ts";

const NEEDS_TOKEN = 'petit: this tunnel needs its access token: send "Proxy-Authorization: Bearer <token>" or "X-Petit-Token: <token>"\n';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** An origin, a relay and one connected client "site" in front of it; counts the requests the origin sees. */
function setUp() {
  const s = {} as { origin: Awaited<ReturnType<typeof startOrigin>>; relay: Relay; client: Client; originRequests: number };
  before(async () => {
    s.origin = await startOrigin("access-origin");
    s.originRequests = 0;
    s.origin.server.on("request", () => { s.originRequests++; });
    s.relay = await startRelay();
    s.client = await registerClient(s.relay, { name: "site", target: `127.0.0.1:${s.origin.port}` });
    await s.client.up();
  });
  after(async () => {
    await s.client?.stop();
    await s.relay?.stop();
    await s.origin?.close();
  });
  return s;
}

const HOST = `site.${DOMAIN}`;

describe("visitor access", () => {
  const s = setUp();
  /** Sends GET / to the site with exactly `headers`: no token is added. */
  const visit = (headers: Record<string, string> = {}) => viaProxy(s.relay, HOST, "/", { auth: false, headers });
  const access = (...args: string[]) => petit(s.relay.home, ["server", "access", "site", ...args]);
  let token: string;
  before(() => { token = s.client.accessToken; });

  test("a visitor without a token gets 407 with a one-line reason and a Proxy-Authenticate header", async () => {
    const before = s.originRequests;
    const res = await visit();
    assert.equal(res.status, 407);
    assert.equal(res.text, NEEDS_TOKEN);
    assert.equal(res.headers["proxy-authenticate"], 'Bearer realm="petit"');
    assert.equal(s.originRequests, before, "a refused request never reaches the origin");
  });

  test("a visitor with a wrong token gets 407 saying the token is wrong", async () => {
    const res = await visit({ "proxy-authorization": "Bearer not-the-token" });
    assert.equal(res.status, 407);
    assert.equal(res.text, "petit: wrong access token for this tunnel\n");
  });

  test("the token works as Bearer, as the Basic password with any user name, and as X-Petit-Token", async () => {
    const forms: Record<string, string>[] = [
      { "proxy-authorization": `Bearer ${token}` },
      { "proxy-authorization": basic("anyone", token) },
      { "proxy-authorization": basic("", token) },
      { "x-petit-token": token },
    ];
    for (const headers of forms) {
      const res = await visit(headers);
      assert.equal(res.status, 200, JSON.stringify(headers));
      assert.equal(JSON.parse(res.text).name, "access-origin");
    }
  });

  test("after petit server access --rotate the old token gets 407 and the new one 200", async () => {
    const rotated = await access("--rotate", "--json");
    assert.equal(rotated.exitCode, 0, String(rotated.stderr));
    const fresh = JSON.parse(String(rotated.stdout)).token as string;
    assert.notEqual(fresh, token);
    const old = await visit({ "proxy-authorization": `Bearer ${token}` });
    assert.equal(old.status, 407);
    assert.equal(old.text, "petit: wrong access token for this tunnel\n");
    assert.equal((await visit({ "proxy-authorization": `Bearer ${fresh}` })).status, 200);
    token = fresh;
  });

  test("--public lets visitors in without a token, and --no-public requires it again", async () => {
    assert.equal((await access("--public")).exitCode, 0);
    assert.equal((await visit()).status, 200);
    assert.equal((await access("--no-public")).exitCode, 0);
    const res = await visit();
    assert.equal(res.status, 407);
    assert.equal(res.text, NEEDS_TOKEN);
    assert.equal((await visit({ "x-petit-token": token })).status, 200);
  });

  test("--allow-from refuses other sources with 403 naming the address, and lets listed ones in", async () => {
    assert.equal((await access("--allow-from", "192.0.2.0/24")).exitCode, 0);
    const refused = await visit({ "x-petit-token": token });
    assert.equal(refused.status, 403);
    assert.equal(refused.text, "petit: source address 127.0.0.1 is not allowed to use this tunnel\n");
    assert.equal((await access("--allow-from", "192.0.2.0/24, 127.0.0.0/8")).exitCode, 0);
    assert.equal((await visit({ "x-petit-token": token })).status, 200);
    assert.equal((await access("--allow-from", "")).exitCode, 0);
    assert.deepEqual(JSON.parse(await petitOk(s.relay.home, ["server", "access", "site", "--json"])).allow_from, []);
  });

  test("petit server access refuses a bad network with a clear message, exits 1 and changes nothing", async () => {
    const before = await petitOk(s.relay.home, ["server", "access", "site", "--json"]);
    for (const bad of ["10.0.0.0/33", "not-a-network", "10.0.0.0/", "10.1.2.3/8/9"]) {
      const res = await access("--allow-from", `127.0.0.0/8,${bad}`);
      assert.equal(res.exitCode, 1, `${bad}: ${res.stdout}`);
      assert.match(String(res.stderr), new RegExp(`"${bad.replace(/[./]/g, "\\$&")}" is not a network in CIDR form such as "10\\.0\\.0\\.0/8"`));
      assert.doesNotMatch(String(res.stderr), /\n\s+at /, "no stack trace for the user's mistake");
    }
    assert.equal(await petitOk(s.relay.home, ["server", "access", "site", "--json"]), before);
  });

  test("over plain HTTP a browser gets a 401 page saying sign-in needs HTTPS, and API callers keep the one-line 407", async () => {
    const page = await visit({ accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    assert.equal(page.status, 401);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.text, /Signing in from a browser needs HTTPS/);
    assert.doesNotMatch(page.text, /<form/, "no form to type a token into over plain HTTP");
    const api = await visit({ accept: "*/*" });
    assert.equal(api.status, 407);
    assert.equal(api.text, NEEDS_TOKEN);
  });

  test("over plain HTTP the sign-in form refuses even the right token and sets no cookie", async () => {
    const res = await viaProxy(s.relay, HOST, "/.petit/sign-in", {
      method: "POST", auth: false, body: `token=${encodeURIComponent(token)}&next=%2F`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers["set-cookie"], undefined);
    assert.match(res.text, /needs HTTPS/);
  });

  test("petit server access --link on a relay without TLS exits 1 saying browser sign-in needs HTTPS", async () => {
    const res = await access("--link");
    assert.equal(res.exitCode, 1);
    assert.match(String(res.stderr), /browser sign-in needs HTTPS: set server\.tls_cert and server\.tls_key/);
    assert.doesNotMatch(String(res.stderr), /\n\s+at /, "no stack trace for the user's mistake");
  });

  describe("malformed and hostile requests", () => {
    const files = ["server/registry.json", "server/authorized_keys"];
    // The presence monitor rewrites last-seen times every 30 s; everything else must stay byte-for-byte.
    const read = (file: string) => readFileSync(join(s.relay.home, file), "utf8").replace(/"last_seen": "[^"]*"/g, '"last_seen": "…"');
    let snapshot: string[];
    let originBefore: number;
    const raw = (lines: string[], line = "GET / HTTP/1.1") => rawRequest(s.relay.httpPort, requestHead(line, [...lines, "Connection: close"]));
    const assertRefused = (res: RawResponse, status: number, reason: RegExp) => {
      assert.equal(res.status, status, res.statusLine);
      assert.match(res.text, reason);
      assert.equal(s.originRequests, originBefore, "the origin must not see it");
    };
    before(() => {
      snapshot = files.map(read);
      originBefore = s.originRequests;
    });

    test("two Host headers get 400", async () => {
      assertRefused(await raw([`Host: ${HOST}`, `Host: ${HOST}`, `X-Petit-Token: ${token}`]), 400, /^petit: (more than one Host header|malformed request)/);
    });

    test("Content-Length together with Transfer-Encoding gets 400 and nothing is smuggled to the origin", async () => {
      const smuggled = requestHead("GET /smuggled HTTP/1.1", [`Host: ${HOST}`, `X-Petit-Token: ${token}`]);
      const res = await rawRequest(s.relay.httpPort, requestHead("POST / HTTP/1.1", [
        `Host: ${HOST}`, `X-Petit-Token: ${token}`, `Content-Length: ${5 + smuggled.length}`, "Transfer-Encoding: chunked",
      ]) + "0\r\n\r\n" + smuggled);
      assertRefused(res, 400, /^petit: malformed request/);
    });

    test("a header folded over two lines (obs-fold) gets 400", async () => {
      assertRefused(await raw([`Host: ${HOST}`, `X-Petit-Token: ${token}`, "X-Folded: first", " second"]), 400, /^petit: malformed request/);
    });

    test("a 1,000-character Host gets 404", async () => {
      const host = `${"a".repeat(1_000 - DOMAIN.length - 1)}.${DOMAIN}`;
      assert.equal(host.length, 1_000);
      assertRefused(await raw([`Host: ${host}`, `X-Petit-Token: ${token}`]), 404, /^petit: no tunnel for host "a{200}" on this relay\n$/);
    });

    test("an IPv6 literal as Host gets 404", async () => {
      assertRefused(await raw(["Host: [::1]", `X-Petit-Token: ${token}`]), 404, /^petit: no tunnel for host "\[::1\]"/);
    });

    test("an empty Host gets 404", async () => {
      assertRefused(await raw(["Host:", `X-Petit-Token: ${token}`]), 404, /^petit: no tunnel for host ""/);
    });

    test("a 20 KB header gets 431", async () => {
      assertRefused(await raw([`Host: ${HOST}`, `X-Petit-Token: ${token}`, `X-Big: ${"b".repeat(20 * 1024)}`]), 431, /^petit: malformed request \(HPE_HEADER_OVERFLOW\)/);
    });

    test("afterwards the relay still serves a normal request, and its registry and authorized_keys are unchanged", async () => {
      const res = await raw([`Host: ${HOST}`, `X-Petit-Token: ${token}`]);
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).name, "access-origin");
      assert.deepEqual(files.map(read), snapshot);
    });
  });
});

describe("failed-access rate limit", () => {
  // A relay of its own: its limiter counts per source address, and every test here comes from 127.0.0.1.
  const s = setUp();

  test("after 30 wrong tokens from one source, the 31st request gets 429 with Retry-After even with the right token", async () => {
    const visit = (token: string) => viaProxy(s.relay, HOST, "/", { auth: false, headers: { "x-petit-token": token } });
    assert.equal((await visit(s.client.accessToken)).status, 200);
    for (let i = 1; i <= 30; i++) assert.equal((await visit(`wrong-${i}`)).status, 407, `attempt ${i}`);
    const limited = await visit(s.client.accessToken);
    assert.equal(limited.status, 429);
    assert.equal(limited.text, "petit: too many failed access attempts from this address; wait and retry\n");
    const retryAfter = Number(limited.headers["retry-after"]);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${limited.headers["retry-after"]}`);
  });
});
