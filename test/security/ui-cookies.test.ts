/**
 * The console's and dashboard's cookies against other programs on
 * 127.0.0.1: browsers send a host's cookies to all its ports, so a local
 * web app must not receive them on its own pages, and a local program
 * holding a session cookie but no CSRF token (and, as such programs do, no
 * Origin header) changes nothing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { CONTROL_SECRET_HEADER } from "../../lib/constants.ts";
import { chromiumSkipReason, launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { registerClient, startRelay, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petitOk } from "../helpers/petit.ts";

/** POSTs to the relay's control port with only the headers given: no Origin, no CSRF header unless named. */
async function post(relay: Relay, path: string, headers: Record<string, string>, body: unknown = {}): Promise<number> {
  const res = await request(`http://127.0.0.1:${relay.controlPort}${path}`, {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  });
  await res.body.text();
  return res.statusCode;
}

/** Signs in with the link `petit server ui` prints; returns the Cookie header a browser would send, and the CSRF token. */
async function signIn(relay: Relay): Promise<{ cookie: string; csrf: string; setCookie: string[] }> {
  const login = await request((await petitOk(relay.home, ["server", "ui"])).trim());
  await login.body.text();
  const setCookie = [login.headers["set-cookie"]].flat() as string[];
  const pairs = setCookie.map((c) => c.split(";")[0]);
  return { cookie: pairs.join("; "), csrf: pairs.find((p) => /_csrf=/.test(p))!.split("=")[1], setCookie };
}

const skipBrowser = await chromiumSkipReason();

describe("console cookies", () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let relay: Relay;
  let client: Client;
  let secret: Record<string, string>;
  const tokenIds = async () => {
    const res = await request(`http://127.0.0.1:${relay.controlPort}/v1/tokens`, { headers: secret });
    return ((await res.body.json()) as { id: string }[]).map((t) => t.id);
  };
  const registered = async () => {
    const res = await request(`http://127.0.0.1:${relay.controlPort}/v1/clients`, { headers: secret });
    return ((await res.body.json()) as { name: string }[]).map((c) => c.name);
  };

  before(async () => {
    origin = await startOrigin("cookie-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "shop", target: `127.0.0.1:${origin.port}` });
    secret = { [CONTROL_SECRET_HEADER]: readFileSync(join(relay.home, "server/control.secret"), "utf8").trim() };
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("the dashboard's cookies are named for its port, limited to /ui, HttpOnly (session) and SameSite=Strict", async () => {
    const { setCookie } = await signIn(relay);
    assert.equal(setCookie.length, 2);
    assert.match(setCookie[0], new RegExp(`^petit_relay_${relay.controlPort}_session=[\\w-]+; Path=/ui; HttpOnly; SameSite=Strict$`));
    assert.match(setCookie[1], new RegExp(`^petit_relay_${relay.controlPort}_csrf=[\\w-]+; Path=/ui; SameSite=Strict$`));
  });

  test("a session cookie without the CSRF header and without Origin is refused 403: no token is created, no client revoked", async () => {
    const { cookie } = await signIn(relay);
    const [tokens, clients] = [await tokenIds(), await registered()];
    assert.equal(await post(relay, "/ui/v1/tokens", { cookie }, { label: "local-program" }), 403);
    assert.equal(await post(relay, "/ui/v1/clients/shop/revoke", { cookie }), 403);
    assert.equal(await post(relay, "/ui/v1/tokens/main/revoke", { cookie }), 403);
    assert.deepEqual(await tokenIds(), tokens);
    assert.deepEqual(await registered(), clients);
    assert.ok(clients.includes("shop"));
  });

  test("a session cookie is no key to /v1/, the secret's API, even with its CSRF token", async () => {
    const { cookie, csrf } = await signIn(relay);
    const tokens = await tokenIds();
    assert.equal(await post(relay, "/v1/tokens", { cookie, "x-petit-csrf": csrf }, { label: "local-program" }), 401);
    assert.deepEqual(await tokenIds(), tokens);
  });

  describe("in a real browser", { skip: skipBrowser }, () => {
    let browser: TestBrowser;
    let other: Server;
    let seen: { url: string; cookie: string }[] = [];
    before(async () => {
      browser = await launchBrowser();
      // Another web app on 127.0.0.1, as a developer's machine has several: it records the cookies it is sent.
      other = createServer((req, res) => {
        seen.push({ url: req.url ?? "", cookie: req.headers.cookie ?? "" });
        res.end("another app\n");
      });
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    });
    after(async () => {
      await browser?.close();
      await new Promise((resolve) => other?.close(resolve));
    });

    test("a web app on another port of 127.0.0.1 is not sent the dashboard's cookies, so cannot create tokens with them", async () => {
      const page = await browser.context.newPage();
      await page.goto((await petitOk(relay.home, ["server", "ui"])).trim());
      await page.waitForURL(/\/ui$/);
      await waitFor(async () => (await page.textContent("#summary") ?? "").includes("1 client"), 20_000, "the dashboard to list the client");
      seen = [];
      const port = (other.address() as AddressInfo).port;
      for (const path of ["/", "/app/", "/v1/tokens"]) await page.goto(`http://127.0.0.1:${port}${path}`);
      // The browser may also ask for /favicon.ico: every request counts.
      assert.deepEqual(seen.map((r) => r.url).filter((url) => url !== "/favicon.ico"), ["/", "/app/", "/v1/tokens"]);
      for (const { url, cookie } of seen) assert.doesNotMatch(cookie, /petit_/, `the other app was sent at ${url}: ${cookie}`);
      // What a local program would do with whatever it was sent: replay it, with the CSRF value if it got one.
      const tokens = await tokenIds();
      for (const { cookie } of seen) {
        const csrf = /petit_relay_\d+_csrf=([\w-]+)/.exec(cookie)?.[1] ?? "";
        for (const path of ["/v1/tokens", "/ui/v1/tokens"]) {
          assert.notEqual(await post(relay, path, { cookie, "x-petit-csrf": csrf }, { label: "stolen" }), 200, path);
        }
      }
      assert.deepEqual(await tokenIds(), tokens);
      await page.close();
    });
  });
});
