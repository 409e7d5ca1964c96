/**
 * The client's web console in a real headless Chromium, against a real
 * relay, ssh and origins; and petit pause / resume / ui from the CLI.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { parse } from "smol-toml";
import { request } from "undici";
import { captureScreenshot, chromiumSkipReason, launchBrowser, type TestBrowser } from "../helpers/browser.ts";
import { DOMAIN, registerClient, startRelay, viaProxy, waitFor, type Client, type Relay } from "../helpers/fixture.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petit, petitOk } from "../helpers/petit.ts";

const skip = await chromiumSkipReason();

describe("the client's web console", { skip }, () => {
  let relay: Relay;
  let originA: Awaited<ReturnType<typeof startOrigin>>;
  let originB: Awaited<ReturnType<typeof startOrigin>>;
  let client: Client;
  let controlPort: number;
  let browser: TestBrowser;
  let page: Page;
  const host = () => `1001.${DOMAIN}`;
  const control = (path: string, init: Parameters<typeof request>[1] = {}) => request(`http://127.0.0.1:${controlPort}${path}`, init);

  before(async () => {
    originA = await startOrigin("origin-a");
    originB = await startOrigin("origin-b");
    relay = await startRelay();
    client = await registerClient(relay, { name: "shop", target: `127.0.0.1:${originA.port}` });
    await client.up();
    controlPort = (parse(readFileSync(join(client.home, "config.toml"), "utf8")).client as { control_port: number }).control_port;
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await client?.stop();
    await relay?.stop();
    await originA?.close();
    await originB?.close();
  });

  test("petit ui prints a one-time login link that signs the browser in", async () => {
    const url = (await petitOk(client.home, ["ui"])).trim();
    assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${controlPort}/ui/login\\?code=[\\w-]{20,}$`));
    await page.goto(url);
    await page.waitForURL(/\/ui$/);
    await waitForText(page, "#state", "Connected");
    assert.equal(await page.textContent("#f-id"), "1001");
    assert.equal(await page.textContent("#f-target"), `127.0.0.1:${originA.port}`);
    const cookies = await browser.context.cookies(`http://127.0.0.1:${controlPort}/ui`);
    const session = cookies.find((c) => c.name === `petit_client_${controlPort}_session`);
    assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
    assert.equal(session?.sameSite, "Strict");
    assert.equal(session?.path, "/ui", "the session cookie is sent to the console's path only");
    // The link works once.
    const again = await request(url);
    assert.equal(again.statusCode, 401);
    assert.match(await again.body.text(), /used already/);
  });

  test("pause on the page makes the proxy answer 502, and resume brings 200 back", async () => {
    assert.equal((await viaProxy(relay, host())).status, 200);
    await page.click("#pause");
    await waitForText(page, "#state", "Paused");
    const paused = await viaProxy(relay, host());
    assert.equal(paused.status, 502);
    assert.match(paused.text, /not connected/);
    assert.equal((await control("/readyz")).statusCode, 503);
    assert.equal(await page.textContent("#pause"), "Resume");
    await page.click("#pause");
    await waitForText(page, "#state", "Connected");
    await waitFor(async () => (await viaProxy(relay, host())).status === 200, 15_000, "the proxy to answer 200 again");
    await waitForText(page, "#log", "tunnel: paused on request");
  });

  test("a target changed on the page is saved in config.toml and the tunnel reaches the new target", async () => {
    await page.fill("#target", "not a target");
    assert.equal(await page.isDisabled("#save"), true, "the page refuses a malformed target before sending it");
    // petit.api is the page's own client: session cookie plus CSRF header.
    const refused = await page.evaluate<string>(`petit.api("POST", "/v1/config", { target: "nope" }).then(() => "accepted", (e) => e.message)`);
    assert.match(refused, /"target" must be HOST:PORT/);
    const renamed = await page.evaluate<string>(`petit.api("POST", "/v1/config", { name: "other" }).then(() => "accepted", (e) => e.message)`);
    assert.match(renamed, /name cannot be changed here/);

    await page.fill("#target", `127.0.0.1:${originB.port}`);
    await page.click("#save");
    // The hint under the field starts as "Saved to config.toml; …": wait for the answer's own words.
    await waitForText(page, "#config-message", `ssh restarted with target 127.0.0.1:${originB.port}`);
    const saved = parse(readFileSync(join(client.home, "config.toml"), "utf8")).client as { target: string; name: string };
    assert.equal(saved.target, `127.0.0.1:${originB.port}`);
    assert.equal(saved.name, "shop");
    await waitFor(async () => {
      const res = await viaProxy(relay, host());
      return res.status === 200 && JSON.parse(res.text).name === "origin-b";
    }, 20_000, "the tunnel to reach origin-b");
    await waitForText(page, "#f-target", `127.0.0.1:${originB.port}`);
    const status = JSON.parse(await petitOk(client.home, ["status", "--json"]));
    assert.equal(status.target, `127.0.0.1:${originB.port}`);
  });

  test("state-changing calls need the CSRF header, and everything needs a session or the secret", async () => {
    const withoutCsrf = await page.evaluate(() => fetch("/ui/v1/pause", { method: "POST" }).then((r) => r.status));
    assert.equal(withoutCsrf, 403);
    assert.equal((await control("/v1/status")).statusCode, 401);
    assert.equal((await control("/v1/pause", { method: "POST" })).statusCode, 401);
    assert.equal((await control("/v1/status", { headers: { host: `evil.example:${controlPort}` } })).statusCode, 421);
    const cookie = (await browser.context.cookies(`http://127.0.0.1:${controlPort}/ui`)).map((c) => `${c.name}=${c.value}`).join("; ");
    assert.match(cookie, /_session=/);
    const crossSite = await control("/ui/v1/pause", { method: "POST", headers: { cookie, origin: "http://evil.example" } });
    assert.equal(crossSite.statusCode, 403);
    const code = await control("/v1/ui/login-code", { method: "POST", headers: { cookie } });
    assert.equal(code.statusCode, 401, "a browser session cannot mint login codes");
    assert.equal((await viaProxy(relay, host())).status, 200, "nothing was paused");
  });

  test("/metrics, /healthz and /readyz answer without the secret", async () => {
    const metrics = await (await control("/metrics")).body.text();
    assert.match(metrics, /^petit_client_tunnel_up\{client="1001"\} 1$/m);
    assert.match(metrics, /^petit_client_tunnel_state\{client="1001",state="connected"\} 1$/m);
    assert.equal((await control("/healthz")).statusCode, 200);
    assert.equal((await control("/readyz")).statusCode, 200);
  });

  test("the page as it looks is captured as a PNG (docs/screenshots/client-console.png with PETIT_UPDATE_SCREENSHOTS=1)", async () => {
    await waitForText(page, "#state", "Connected");
    await page.evaluate(`document.getElementById("toast").hidden = true`);
    await captureScreenshot(page, "client-console.png");
  });

  test("petit pause and petit resume exit 0 and may be repeated; petit up leaves a pause alone", async () => {
    for (let i = 0; i < 2; i++) {
      const result = await petit(client.home, ["pause"]);
      assert.equal(result.exitCode, 0, String(result.stderr));
    }
    assert.equal((await viaProxy(relay, host())).status, 502);
    const up = await petit(client.home, ["up"]);
    assert.equal(up.exitCode, 0);
    assert.match(String(up.stdout), /paused/);
    assert.equal((await viaProxy(relay, host())).status, 502);
    for (let i = 0; i < 2; i++) {
      const result = await petit(client.home, ["resume"]);
      assert.equal(result.exitCode, 0, String(result.stderr));
    }
    await waitFor(async () => (await viaProxy(relay, host())).status === 200, 15_000, "the proxy to answer 200 after resume");
  });

  test("stop on the page, confirmed, ends petit-clientd", async () => {
    await page.click("#stop");
    await page.click("#confirm button[value=ok]");
    await waitFor(async () => (await petit(client.home, ["status", "--json"])).exitCode === 3 &&
      JSON.parse(String((await petit(client.home, ["status", "--json"])).stdout)).state === "stopped", 15_000, "the daemon to stop");
    const resume = await petit(client.home, ["resume"]);
    assert.equal(resume.exitCode, 1);
    assert.match(String(resume.stderr), /not running: start it with "petit up"/);
  });
});

/** Waits until the text of `selector` contains `text`. */
async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(([s, t]) => {
    const dom = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
    return (dom.querySelector(s)?.textContent ?? "").includes(t);
  }, [selector, text], { timeout: 20_000 });
}
