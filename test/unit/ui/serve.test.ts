import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { createControlServer } from "../../../lib/daemon/control-server.ts";
import { SessionStore } from "../../../lib/ui/session.ts";
import { close, listen } from "../../../lib/http/listen.ts";
import { CLIENT_PAGE } from "../../../lib/ui/client-page.ts";
import { consoleHooks, consoleRoutes } from "../../../lib/ui/serve.ts";

const SECRET = "s3cret";
const sessions = new SessionStore("petit_test");
let ready = true;
let changes = 0;
const server = createControlServer(SECRET, {
  "GET /v1/status": () => ({ state: "connected" }),
  "POST /v1/pause": () => ({ paused: ++changes }),
  ...consoleRoutes(sessions, () => (server.address() as AddressInfo).port),
}, () => undefined, consoleHooks({
  sessions, page: CLIENT_PAGE, loginCommand: "petit ui", log: () => undefined,
  metrics: () => "m 1\n", notReady: () => (ready ? undefined : "tunnel paused"),
}));
let base = "";

before(async () => {
  await listen(server, "127.0.0.1", 0, "test");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => close(server));

/** Gets a login URL the way the CLI does, follows it, and returns the Cookie header and CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const code = await request(`${base}/v1/ui/login-code`, { method: "POST", headers: { "x-petit-secret": SECRET } });
  const { url } = await code.body.json() as { url: string };
  assert.ok(url.startsWith(`${base}/ui/login?code=`));
  const login = await request(url);
  assert.equal(login.statusCode, 200);
  assert.match(await login.body.text(), /http-equiv="refresh" content="0;url=\/ui"/);
  const pairs = ([login.headers["set-cookie"]].flat() as string[]).map((c) => c.split(";")[0]);
  return { cookie: pairs.join("; "), csrf: pairs.find((p) => p.startsWith("petit_test_csrf="))!.split("=")[1] };
}

test("the console page needs a session; without one it says how to get a login link", async () => {
  const res = await request(`${base}/ui`);
  assert.equal(res.statusCode, 401);
  assert.match(await res.body.text(), /Run <code>petit ui<\/code>/);
  const { cookie } = await signIn();
  const page = await request(`${base}/ui`, { headers: { cookie } });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers["content-security-policy"]), /default-src 'none'; script-src 'self'/);
  assert.equal(page.headers["x-frame-options"], "DENY");
  assert.match(await page.body.text(), /<meta name="petit-csrf-cookie" content="petit_test_csrf">/);
});

test("a browser session reads the API with its cookie and writes only with the CSRF header", async () => {
  const { cookie, csrf } = await signIn();
  assert.equal((await request(`${base}/ui/v1/status`, { headers: { cookie } })).statusCode, 200);
  assert.equal((await request(`${base}/ui/v1/pause`, { method: "POST", headers: { cookie } })).statusCode, 403);
  const before = changes;
  const ok = await request(`${base}/ui/v1/pause`, { method: "POST", headers: { cookie, "x-petit-csrf": csrf } });
  assert.equal(ok.statusCode, 200);
  assert.equal(changes, before + 1);
});

test("the CLI's secret header still works, and a wrong one is refused", async () => {
  assert.equal((await request(`${base}/v1/pause`, { method: "POST", headers: { "x-petit-secret": SECRET } })).statusCode, 200);
  assert.equal((await request(`${base}/v1/status`, { headers: { "x-petit-secret": "wrong" } })).statusCode, 401);
});

test("a browser session cannot mint login codes: that needs the secret", async () => {
  const { cookie, csrf } = await signIn();
  for (const path of ["/v1/ui/login-code", "/ui/v1/ui/login-code"]) {
    const res = await request(`${base}${path}`, { method: "POST", headers: { cookie, "x-petit-csrf": csrf } });
    assert.equal(res.statusCode, 401, path);
  }
});

test("another host name (DNS rebinding) gets 421, a cross-origin write 403", async () => {
  const { cookie, csrf } = await signIn();
  const rebound = await request(`${base}/ui/v1/status`, { headers: { host: "attacker.example", cookie } });
  assert.equal(rebound.statusCode, 421);
  const cross = await request(`${base}/ui/v1/pause`, { method: "POST", headers: { cookie, "x-petit-csrf": csrf, origin: "http://attacker.example" } });
  assert.equal(cross.statusCode, 403);
  const local = await request(`${base}/ui/v1/pause`, { method: "POST", headers: { cookie, "x-petit-csrf": csrf, origin: base } });
  assert.equal(local.statusCode, 200);
});

test("/metrics, /healthz and /readyz answer without the secret; /readyz says why it is not ready", async () => {
  const metrics = await request(`${base}/metrics`);
  assert.equal(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(await metrics.body.text(), "m 1\n");
  assert.equal((await request(`${base}/healthz`)).statusCode, 200);
  ready = false;
  const notReady = await request(`${base}/readyz`);
  assert.equal(notReady.statusCode, 503);
  assert.equal(await notReady.body.text(), "not ready: tunnel paused\n");
  ready = true;
});

test("sign-out ends the session", async () => {
  const { cookie, csrf } = await signIn();
  assert.equal((await request(`${base}/ui/logout`, { method: "POST", headers: { cookie, "x-petit-csrf": csrf } })).statusCode, 200);
  assert.equal((await request(`${base}/ui/v1/status`, { headers: { cookie } })).statusCode, 401);
});

test("the session cookies are set for /ui only, and a session is no key to /v1/ (the secret's API)", async () => {
  const code = await request(`${base}/v1/ui/login-code`, { method: "POST", headers: { "x-petit-secret": SECRET } });
  const login = await request(((await code.body.json()) as { url: string }).url);
  for (const cookie of [login.headers["set-cookie"]].flat() as string[]) assert.match(cookie, /; Path=\/ui; .*SameSite=Strict/);
  const { cookie, csrf } = await signIn();
  const before = changes;
  assert.equal((await request(`${base}/v1/status`, { headers: { cookie } })).statusCode, 401);
  assert.equal((await request(`${base}/v1/pause`, { method: "POST", headers: { cookie, "x-petit-csrf": csrf } })).statusCode, 401);
  assert.equal(changes, before);
});

test("a session cookie without the CSRF header is refused 403 whether or not an Origin header came with it", async () => {
  const { cookie } = await signIn();
  const before = changes;
  for (const origin of [undefined, base]) {
    const res = await request(`${base}/ui/v1/pause`, { method: "POST", headers: { cookie, ...(origin ? { origin } : {}) } });
    assert.equal(res.statusCode, 403, `origin ${origin}`);
  }
  assert.equal(changes, before);
});
