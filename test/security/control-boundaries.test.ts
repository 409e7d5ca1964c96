/**
 * The control ports hold their boundaries against a local caller with the
 * secret or a session: a malformed %-escape is a 400, never a 500, on both
 * daemons and through both web UIs; an access change must use real JSON
 * types; and registration refuses degenerate keys. Each refusal changes nothing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { CONTROL_SECRET_HEADER } from "../../lib/constants.ts";
import { makeProof } from "../../lib/proof.ts";
import { registerClient, startRelay, type Client, type Relay } from "../helpers/fixture.ts";
import { sshBlob } from "../helpers/fuzz.ts";
import { startOrigin } from "../helpers/origin.ts";
import { petitOk } from "../helpers/petit.ts";

/** An answer: status and the "error" of its JSON body. */
interface Answer {
  status: number;
  error: string;
  json: Record<string, unknown>;
}

/** Sends a request to 127.0.0.1:`port`; `body` objects go as JSON. */
async function call(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    method: (init.method ?? "GET") as "GET", headers: { "content-type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
    headersTimeout: 10_000, bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  const json = (() => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return {};
    }
  })();
  return { status: res.statusCode, error: String(json.error ?? text), json };
}

/** Signs in with the login link `petit [server] ui` prints; returns the Cookie header and CSRF token. */
async function signIn(home: string, args: string[]): Promise<{ cookie: string; csrf: string }> {
  const url = (await petitOk(home, args)).trim();
  const login = await request(url);
  await login.body.text();
  const pairs = ([login.headers["set-cookie"]].flat() as string[]).map((c) => c.split(";")[0]);
  return { cookie: pairs.join("; "), csrf: pairs.find((p) => /_csrf=/.test(p))!.split("=")[1] };
}

const BAD_ESCAPE = "%E0%A4%A";

describe("control-port boundaries", () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let relay: Relay;
  let client: Client;
  let relaySecret: Record<string, string>;
  let clientSecret: Record<string, string>;
  let clientPort: number;
  const relayFile = (name: string) => readFileSync(join(relay.home, "server", name));

  before(async () => {
    origin = await startOrigin("bounds-origin");
    relay = await startRelay();
    client = await registerClient(relay, { name: "shop", target: `127.0.0.1:${origin.port}` });
    await client.up();
    relaySecret = { [CONTROL_SECRET_HEADER]: readFileSync(join(relay.home, "server/control.secret"), "utf8").trim() };
    clientSecret = { [CONTROL_SECRET_HEADER]: readFileSync(join(client.home, "client/control.secret"), "utf8").trim() };
    clientPort = Number(/^control_port = (\d+)$/m.exec(readFileSync(join(client.home, "config.toml"), "utf8"))![1]);
  });
  after(async () => {
    await client?.stop();
    await relay?.stop();
    await origin?.close();
  });

  test("a malformed %-escape in a relay control path is answered 400 with the reason, and the relay goes on", async () => {
    for (const [method, path] of [["GET", `/v1/clients/${BAD_ESCAPE}/access`], ["POST", `/v1/clients/${BAD_ESCAPE}/access`], ["POST", `/v1/clients/${BAD_ESCAPE}/revoke`], ["POST", `/v1/tokens/${BAD_ESCAPE}/revoke`]]) {
      const answer = await call(relay.controlPort, path, { method, headers: relaySecret });
      assert.equal(answer.status, 400, `${method} ${path}: ${answer.error}`);
      assert.match(answer.error, /cannot decode "%E0%A4%A" in the path: malformed %-escape/);
    }
    assert.equal((await call(relay.controlPort, "/v1/status", { headers: relaySecret })).status, 200);
    assert.match(relayFile("registry.json").toString(), /"name": "shop"/);
  });

  test("a malformed %-escape through the relay's dashboard session is answered 400 too", async () => {
    const { cookie } = await signIn(relay.home, ["server", "ui"]);
    const answer = await call(relay.controlPort, `/ui/v1/clients/${BAD_ESCAPE}/access`, { headers: { cookie } });
    assert.equal(answer.status, 400, answer.error);
    assert.match(answer.error, /malformed %-escape/);
  });

  test("a malformed %-escape on the client's control port and console is a 4xx, never a 500", async () => {
    const { cookie } = await signIn(client.home, ["ui"]);
    for (const [path, headers] of [[`/v1/${BAD_ESCAPE}`, clientSecret], [`/v1/status/${BAD_ESCAPE}`, clientSecret], [`/ui/v1/${BAD_ESCAPE}`, { cookie }]] as const) {
      const answer = await call(clientPort, path, { headers });
      assert.equal(answer.status, 404, `${path}: ${answer.error}`);
    }
    assert.equal((await call(clientPort, "/v1/status", { headers: clientSecret })).status, 200);
  });

  const badAccess: [string, unknown, RegExp][] = [
    ['{"public": "no"}', { public: "no" }, /"public" must be a JSON boolean, got "no"/],
    ['{"public": 1}', { public: 1 }, /"public" must be a JSON boolean, got 1/],
    ['{"rotate": "yes"}', { rotate: "yes" }, /"rotate" must be a JSON boolean, got "yes"/],
    ['{"allow_from": "10.0.0.0/8"}', { allow_from: "10.0.0.0/8" }, /"allow_from" must be a JSON array of strings/],
    ['{"allow_from": [10]}', { allow_from: [10] }, /"allow_from" must be a JSON array of strings, got \[10\]/],
    ['{"admin": true}', { admin: true }, /unknown field "admin" \(expected rotate, public, allow_from\)/],
    ["a JSON array", [], /body must be a JSON object/],
  ];
  for (const [what, body, message] of badAccess) {
    test(`an access change of ${what} is refused with 400 naming the field, and changes nothing`, async () => {
      const path = `/v1/clients/shop/access`;
      const before = (await call(relay.controlPort, path, { headers: relaySecret })).json;
      const registry = relayFile("registry.json");
      const answer = await call(relay.controlPort, path, { method: "POST", headers: relaySecret, body });
      assert.equal(answer.status, 400, answer.error);
      assert.match(answer.error, message);
      assert.deepEqual((await call(relay.controlPort, path, { headers: relaySecret })).json, before);
      assert.equal(before.public, false);
      assert.ok(relayFile("registry.json").equals(registry), "registry.json changed");
    });
  }

  test("an access change with real JSON booleans still works", async () => {
    const path = `/v1/clients/shop/access`;
    assert.equal((await call(relay.controlPort, path, { method: "POST", headers: relaySecret, body: { public: true } })).json.public, true);
    assert.equal((await call(relay.controlPort, path, { method: "POST", headers: relaySecret, body: { public: false } })).json.public, false);
  });

  test("the client's config route and the relay's token route refuse a number where text belongs", async () => {
    const target = await call(clientPort, "/v1/config", { method: "POST", headers: clientSecret, body: { target: 8080 } });
    assert.equal(target.status, 400, target.error);
    assert.match(target.error, /"target" must be HOST:PORT/);
    const tokens = (await call(relay.controlPort, "/v1/tokens", { headers: relaySecret })).json;
    for (const body of [{ uses: "2" }, { uses: true }, { label: 5 }, { expires: 3600 }]) {
      const answer = await call(relay.controlPort, "/v1/tokens", { method: "POST", headers: relaySecret, body });
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.error}`);
    }
    assert.deepEqual((await call(relay.controlPort, "/v1/tokens", { headers: relaySecret })).json, tokens);
  });

  const degenerate: [string, string, RegExp][] = [
    ["an all-zero ed25519 key", `ssh-ed25519 ${sshBlob("ssh-ed25519", Buffer.alloc(32)).toString("base64")}`, /ssh-ed25519 key is all zeros/],
    ["an RSA key with n = 0", `ssh-rsa ${sshBlob("ssh-rsa", Buffer.from([1, 0, 1]), Buffer.alloc(256)).toString("base64")}`, /ssh-rsa key has a modulus n of 0/],
  ];
  for (const [what, key, message] of degenerate) {
    test(`registering ${what} is refused with 400 and changes nothing`, async () => {
      const [registry, keys] = [relayFile("registry.json"), relayFile("authorized_keys")];
      const text = JSON.stringify({ public_key: key });
      const answer = await call(relay.apiPort, "/v1/register", { method: "POST", body: text, headers: { "x-petit-proof": makeProof(relay.token, text) } });
      assert.equal(answer.status, 400, answer.error);
      assert.match(answer.error, message);
      assert.ok(relayFile("registry.json").equals(registry), "registry.json changed");
      assert.ok(relayFile("authorized_keys").equals(keys), "authorized_keys changed");
    });
  }
});
