/**
 * Browser sign-in for private tunnels, end to end: a real relay serving
 * HTTPS, two real clients, a real origin that logs what it receives, and a
 * person in headless Chromium; raw requests for what a browser never sends
 * (other clients' cookies, forged ones, hostile redirect targets).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { execa } from "execa";
import { Agent, request } from "undici";
import { COOKIE_NAME, makeCookieValue } from "../../lib/server/proxy/sign-in/cookie.ts";
import { chromiumSkipReason, launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { makeCert } from "../helpers/certificate.ts";
import { DOMAIN, registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";
import { startProtocolOrigin, type ProtocolOrigin, type SeenRequest } from "../helpers/protocol-origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";

const skip = await chromiumSkipReason();

describe("browser sign-in to a private tunnel", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "petit-sign-in-"));
  let origin: ProtocolOrigin;
  /** What the origin received: every request's method, URL and fields (WebSocket handshakes too). */
  let seen: SeenRequest[] = [];
  let relay: Relay;
  let alpha: Client;
  let beta: Client;
  let browser: TestBrowser;
  let page: Page;
  let agent: Agent;
  const url = (label: string, path = "/") => `https://${label}.${DOMAIN}:${relay.httpPort}${path}`;
  const token = (label: string) => JSON.parse(readFileSync(join(relay.home, "server/registry.json"), "utf8"))
    .clients.find((c: { name: string }) => c.name === label).access.token as string;
  /** A request through the relay over HTTPS to `label`'s host, from 127.0.0.`from`, with exactly `headers`. */
  const visit = async (label: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; from?: number } = {}) => {
    const dispatcher = init.from ? new Agent({ localAddress: `127.0.0.${init.from}`, connect: { ca: readFileSync(join(dir, "relay.crt"), "utf8") } }) : agent;
    const res = await request(`https://127.0.0.1:${relay.httpPort}${path}`, {
      method: (init.method ?? "GET") as "GET", dispatcher, body: init.body,
      headers: { host: `${label}.${DOMAIN}:${relay.httpPort}`, ...init.headers },
      headersTimeout: 15_000, bodyTimeout: 15_000,
    });
    const text = await res.body.text();
    if (init.from) await dispatcher.close();
    return { status: res.statusCode, headers: res.headers, text };
  };
  const signInCookie = async (label: string) =>
    (await browser.context.cookies(url(label))).find((c) => c.name === COOKIE_NAME);
  /** Signs the browser in at `label`'s sign-in page, typing the token, starting from `path`. */
  const signIn = async (label: string, path = "/") => {
    const landed = await page.goto(url(label, path));
    assert.equal(landed?.status(), 401);
    await page.fill("#token", token(label));
    await Promise.all([page.waitForURL(url(label, path)), page.click("#sign-in")]);
  };
  /** The service's answer on the page: the request it saw, as JSON. */
  const served = async () => JSON.parse(await page.innerText("body")) as SeenRequest;
  const originSawPetitCredentials = () => seen.some(({ headers }) =>
    String(headers.cookie ?? "").includes(COOKIE_NAME) || headers["proxy-authorization"] !== undefined ||
    headers["x-petit-token"] !== undefined || JSON.stringify(headers).includes(token("alpha")));

  before(async () => {
    origin = await startProtocolOrigin();
    seen = origin.seen;
    const files = makeCert(dir, "relay");
    relay = await startRelay({ config: { tls_cert: files.cert, tls_key: files.key } });
    relay.apiUrl = relay.apiUrl.replace("http:", "https:");
    // The CLI trusts the test's certificate the way Node does everywhere: NODE_EXTRA_CA_CERTS.
    process.env.NODE_EXTRA_CA_CERTS = files.cert;
    agent = new Agent({ connect: { ca: readFileSync(files.cert, "utf8") } });
    alpha = await registerClient(relay, { name: "alpha", target: `127.0.0.1:${origin.port}` });
    beta = await registerClient(relay, { name: "beta", target: `127.0.0.1:${origin.port}` });
    await Promise.all([alpha.up(), beta.up()]);
    browser = await launchBrowser([
      "--ignore-certificate-errors", `--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`,
    ]);
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await agent?.close();
    await alpha?.stop();
    await beta?.stop();
    await relay?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a person opens the private URL, lands on sign-in, enters the token and sees the service's page", async () => {
    await browser.context.addCookies([{ name: "app", value: "kept", url: url("alpha") }]);
    const landed = await page.goto(url("alpha", "/orders?id=7"));
    assert.equal(landed?.status(), 401);
    assert.match(await page.title(), /^Sign in to alpha\.petit\.test/);
    assert.equal(seen.length, 0, "the origin saw nothing before the sign-in");
    await page.fill("#token", token("alpha"));
    await Promise.all([page.waitForURL(url("alpha", "/orders?id=7")), page.click("#sign-in")]);
    assert.equal((await served()).url, "/orders?id=7");
    const cookie = await signInCookie("alpha");
    assert.ok(cookie, "the browser keeps petit's cookie");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(cookie.domain, `alpha.${DOMAIN}`, "a host-only cookie");
    assert.ok(cookie.expires > Date.now() / 1000 + 3600 && cookie.expires < Date.now() / 1000 + 13 * 3600, `expires ${cookie.expires}`);
    // The service got the request with its own cookie, and none of petit's credentials.
    assert.equal(seen.at(-1)?.headers.cookie, "app=kept");
    assert.equal(originSawPetitCredentials(), false, JSON.stringify(seen, null, 1));
    await page.reload();
    assert.equal(JSON.parse(await page.innerText("body")).url, "/orders?id=7", "the next page load passes on the cookie");
  });

  test("a browser without credentials gets the sign-in page (401, HTML, strict CSP) and an API caller the one-line 407", async () => {
    const html = await visit("alpha", "/x", { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    assert.equal(html.status, 401);
    assert.match(String(html.headers["content-type"]), /^text\/html/);
    assert.match(String(html.headers["content-security-policy"]), /default-src 'none'; style-src 'sha256-[\w+/=]+'; form-action 'self'/);
    assert.match(String(html.headers["www-authenticate"]), /^Cookie realm="petit"/);
    assert.match(html.text, /<form method="post" action="\/\.petit\/sign-in"><input type="hidden" name="next" value="\/x">/);
    assert.doesNotMatch(html.text, /<script/);
    const head = await visit("alpha", "/x", { method: "HEAD", headers: { accept: "text/html" } });
    assert.equal(head.status, 401);
    assert.equal(head.text, "");
    for (const headers of [{}, { accept: "*/*" }, { accept: "application/json" }] as Record<string, string>[]) {
      const api = await visit("alpha", "/x", { headers });
      assert.equal(api.status, 407, JSON.stringify(headers));
      assert.equal(api.text, 'petit: this tunnel needs its access token: send "Proxy-Authorization: Bearer <token>" or "X-Petit-Token: <token>"\n');
    }
    const post = await visit("alpha", "/x", { method: "POST", headers: { accept: "text/html" }, body: "" });
    assert.equal(post.status, 407, "only a page load (GET or HEAD) gets the sign-in page");
  });

  test("curl gets the one-line 407 by default, and the 401 sign-in page when it asks for HTML", async () => {
    const curl = (...args: string[]) => execa("curl", [
      "-sS", "-k", "--resolve", `alpha.${DOMAIN}:${relay.httpPort}:127.0.0.1`, "-w", "\n%{http_code}", ...args, url("alpha", "/report"),
    ], { reject: false, timeout: 20_000 });
    const plain = await curl();
    assert.equal(plain.stdout, 'petit: this tunnel needs its access token: send "Proxy-Authorization: Bearer <token>" or "X-Petit-Token: <token>"\n\n407');
    const html = await curl("-H", "Accept: text/html");
    assert.match(html.stdout, /^<!doctype html>[\s\S]*name="next" value="\/report"[\s\S]*\n401$/);
    const signedIn = await curl("-H", `X-Petit-Token: ${token("alpha")}`, "-H", "Accept: text/html");
    assert.match(signedIn.stdout, /"url":"\/report"[\s\S]*\n200$/);
  });

  test("a signed-in page's WebSocket passes on the cookie, which the service never sees", async () => {
    // Run in the page (a string: the test's own TypeScript has no DOM types).
    const opens = () => page.evaluate<boolean>(`new Promise((resolve) => {
      const ws = new WebSocket("wss://" + location.host + "/live");
      ws.onopen = () => { ws.close(); resolve(true); };
      ws.onerror = () => resolve(false);
    })`);
    await page.goto(url("alpha", "/"));
    assert.equal(await opens(), true, "the handshake reached the service");
    const handshake = seen.findLast((r) => r.url === "/live");
    assert.equal(handshake?.headers.upgrade, "websocket");
    assert.equal(originSawPetitCredentials(), false, JSON.stringify(handshake?.headers));
    const cookies = await browser.context.cookies(url("alpha"));
    await browser.context.clearCookies();
    const count = seen.length;
    assert.equal(await opens(), false, "without the cookie the handshake is refused");
    assert.equal(seen.length, count, "and never reaches the service");
    await browser.context.addCookies(cookies);
  });

  test("a cookie for client A does not open client B, through the relay", async () => {
    const stolen = (await signInCookie("alpha"))!.value;
    const res = await visit("beta", "/", { headers: { cookie: `${COOKIE_NAME}=${stolen}` } });
    assert.equal(res.status, 407);
    // The same attack from a browser: A's cookie planted on B's host.
    await browser.context.addCookies([{ name: COOKIE_NAME, value: stolen, url: url("beta"), secure: true, httpOnly: true, sameSite: "Lax" }]);
    const landed = await page.goto(url("beta", "/"));
    assert.equal(landed?.status(), 401);
    assert.ok(await page.$("#token"), "B's sign-in page, not B's service");
    assert.equal((await visit("alpha", "/", { headers: { cookie: `${COOKIE_NAME}=${stolen}` } })).status, 200, "A's own cookie still opens A");
  });

  test("a forged or expired cookie is refused", async () => {
    const good = (await signInCookie("alpha"))!.value;
    const [version, expiry, mac] = good.split(".");
    const secret = readFileSync(join(relay.home, "server/sign-in.secret"), "utf8").trim();
    const expired = makeCookieValue(secret, alpha.id, token("alpha"), Math.floor(Date.now() / 1000) - 13 * 3600);
    const flipped = `${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`;
    for (const forged of [`${version}.${Number(expiry) + 86_400}.${mac}`, `${version}.${expiry}.${flipped}`, expired, "1.9999999999.x", "admin"]) {
      const res = await visit("alpha", "/", { headers: { cookie: `${COOKIE_NAME}=${forged}` } });
      assert.equal(res.status, 407, forged);
    }
    const page401 = await visit("alpha", "/", { headers: { cookie: `${COOKIE_NAME}=${expired}`, accept: "text/html" } });
    assert.equal(page401.status, 401);
    assert.match(page401.text, /Your sign-in has ended/);
    assert.match(String(page401.headers["set-cookie"]), new RegExp(`^${COOKIE_NAME}=; Path=/; Max-Age=0`));
  });

  test("the redirect after sign-in never leaves the host", async () => {
    for (const next of ["//evil.example/", "https://evil.example/", "/\\evil.example", "/ok\r\nLocation: https://evil.example/"]) {
      const body = new URLSearchParams({ token: token("alpha"), next }).toString();
      const res = await visit("alpha", "/.petit/sign-in", {
        method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", origin: url("alpha").slice(0, -1) },
      });
      assert.equal(res.status, 303, next);
      assert.equal(res.headers.location, "/", JSON.stringify(next));
    }
    await browser.context.clearCookies();
    await page.goto(url("alpha", "/.petit/sign-in?next=//evil.example/steal"));
    await page.fill("#token", token("alpha"));
    await Promise.all([page.waitForURL(url("alpha", "/")), page.click("#sign-in")]);
    assert.equal((await served()).url, "/");
  });

  test("a sign-in form posted from another site is refused", async () => {
    const body = new URLSearchParams({ token: token("alpha"), next: "/" }).toString();
    const res = await visit("alpha", "/.petit/sign-in", { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" } });
    assert.equal(res.status, 403);
    assert.equal(res.headers["set-cookie"], undefined);
  });

  test("a sign-in link from petit server access --link works once and not twice", async () => {
    const printed = JSON.parse(await petitOk(relay.home, ["server", "access", "alpha", "--link", "--json"]));
    const link = printed.sign_in_link.url as string;
    assert.match(link, new RegExp(`^https://alpha\\.${DOMAIN.replace(".", "\\.")}:${relay.httpPort}/\\.petit/sign-in\\?link=\\d+\\.\\d+\\.[\\w-]{22}\\.[\\w-]{43}$`));
    assert.ok(Date.parse(printed.sign_in_link.expires_at) > Date.now() + 5 * 60_000);
    await browser.context.clearCookies();
    // Opening it shows a button: a link preview that fetches the URL does not spend it.
    assert.equal((await visit("alpha", new URL(link).pathname + new URL(link).search)).status, 200);
    assert.equal((await page.goto(link))?.status(), 200);
    await Promise.all([page.waitForURL(url("alpha", "/")), page.click("#continue")]);
    assert.equal((await served()).url, "/");
    await browser.context.clearCookies();
    await page.goto(link);
    const [again] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/.petit/sign-in")), page.click("#continue")]);
    assert.equal(again.status(), 401);
    assert.match(await page.innerText("#error"), /used already/);
    assert.equal(await signInCookie("alpha"), undefined);
  });

  test("after petit server access --rotate the next page load lands on sign-in again", async () => {
    await signIn("alpha", "/dashboard");
    assert.equal(JSON.parse(await page.innerText("body")).url, "/dashboard");
    await petitOk(relay.home, ["server", "access", "alpha", "--rotate"]);
    const reloaded = await page.reload();
    assert.equal(reloaded?.status(), 401);
    assert.match(await page.innerText("#error"), /Your sign-in has ended/);
    await page.fill("#token", token("alpha"));
    await Promise.all([page.waitForURL(url("alpha", "/dashboard")), page.click("#sign-in")]);
    assert.equal(JSON.parse(await page.innerText("body")).url, "/dashboard", "the new token signs in again");
    assert.equal(originSawPetitCredentials(), false);
  });

  test("signing out at /.petit/sign-out ends the sign-in in this browser", async () => {
    await page.goto(url("alpha", "/"));
    assert.equal((await served()).url, "/", "signed in before");
    await page.goto(url("alpha", "/.petit/sign-out"));
    await Promise.all([page.waitForURL(url("alpha", "/.petit/sign-in")), page.click("#sign-out")]);
    assert.equal(await signInCookie("alpha"), undefined);
    assert.equal((await page.goto(url("alpha", "/")))?.status(), 401);
  });

  test("/.petit/ is petit's own on every tunnel: never forwarded, public tunnels included", async () => {
    const before = seen.length;
    assert.equal((await visit("alpha", "/.petit/anything", { headers: { "x-petit-token": token("alpha") } })).status, 404);
    assert.equal((await petit(relay.home, ["server", "access", "beta", "--public"])).exitCode, 0);
    try {
      const other = await visit("beta", "/.petit/admin");
      assert.equal(other.status, 404);
      assert.match(other.text, /\/\.petit\/ is reserved/);
      const signin = await visit("beta", "/.petit/sign-in?next=/shop");
      assert.equal(signin.status, 303, "a public tunnel needs no sign-in");
      assert.equal(signin.headers.location, "/shop");
      assert.equal((await visit("beta", "/shop")).status, 200);
    } finally {
      await petit(relay.home, ["server", "access", "beta", "--no-public"]);
    }
    assert.deepEqual(seen.slice(before).map((r) => r.url), ["/shop"], "only the public page reached the origin");
  });

  test("revoking a client ends its browsers' sign-ins at once", async () => {
    await signIn("beta", "/");
    assert.equal((await served()).url, "/");
    const cookie = (await signInCookie("beta"))!.value;
    await petitOk(relay.home, ["server", "revoke", "beta"]);
    const reloaded = await page.reload();
    assert.equal(reloaded?.status(), 404);
    assert.match(await page.innerText("body"), /no tunnel for host "beta\.petit\.test/);
    assert.equal((await visit("beta", "/", { headers: { cookie: `${COOKIE_NAME}=${cookie}` } })).status, 404);
  });

  test("failed sign-ins are rate-limited per source like other failed visitor access", async () => {
    const body = new URLSearchParams({ token: "wrong", next: "/" }).toString();
    const post = (from: number) => visit("alpha", "/.petit/sign-in", {
      method: "POST", body, from, headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    for (let i = 0; i < 30; i++) {
      const res = await post(7);
      assert.equal(res.status, 401, `attempt ${i + 1}`);
      assert.match(res.text, /Wrong access token/);
    }
    const blocked = await post(7);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers["retry-after"]) > 0);
    // The token itself is refused from that source now, too; another source is not affected.
    assert.equal((await visit("alpha", "/", { from: 7, headers: { "x-petit-token": token("alpha") } })).status, 429);
    assert.equal((await post(8)).status, 401);
  });
});
