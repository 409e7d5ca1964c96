import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientControlRoutes } from "../../../lib/client/control-routes.ts";
import type { TunnelSupervisor } from "../../../lib/client/supervisor.ts";
import { readConfig } from "../../../lib/config/file.ts";
import type { ClientConfig } from "../../../lib/config/schema.ts";
import type { ControlRoutes } from "../../../lib/daemon/control-server.ts";
import { LogRing } from "../../../lib/daemon/log-ring.ts";
import { TokenStore } from "../../../lib/server/tokens/tokens.ts";
import { tokenRoutes } from "../../../lib/server/tokens/token-routes.ts";

const dir = mkdtempSync(join(tmpdir(), "petit-ui-routes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Calls route `key` the way the control server would; resolves to the answer or rejects with its error. */
async function call(routes: ControlRoutes, key: string, body?: unknown, params: Record<string, string> = {}): Promise<unknown> {
  return routes[key]({ params, query: new URLSearchParams(), body });
}

/** Asserts the call fails with `status` and a message matching `message`. */
async function refuses(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { status?: number }) => {
    assert.equal(error.status, status, error.message);
    assert.match(error.message, message);
    return true;
  });
}

function clientRoutes() {
  const file = join(dir, "config.toml");
  writeFileSync(file, `[client]\nrelay = "http://relay.example.com:3014"\nid = 1001\nname = "shop"\nport = 11000\ntarget = "127.0.0.1:8080"\nssh_host = "relay.example.com"\nssh_port = 2222\nssh_user = "petit"\n`);
  let config = readConfig(file).client!;
  const applied: ClientConfig[] = [];
  const routes = clientControlRoutes({
    supervisor: {} as TunnelSupervisor, status: () => ({}), logs: new LogRing(), config: () => config, configFile: file,
    apply: async (next) => void applied.push((config = next)), shutdown: () => undefined, rememberPause: () => undefined,
  });
  return { file, routes, applied };
}

test("POST /v1/config saves a valid target in config.toml and applies it", async () => {
  const { file, routes, applied } = clientRoutes();
  const answer = await call(routes, "POST /v1/config", { target: " 127.0.0.1:9090 " }) as { target: string; target_reachable: boolean };
  assert.equal(answer.target, "127.0.0.1:9090");
  assert.equal(typeof answer.target_reachable, "boolean");
  assert.equal(readConfig(file).client!.target, "127.0.0.1:9090");
  assert.equal(readConfig(file).client!.name, "shop", "the rest of [client] is kept");
  assert.equal(applied.at(-1)?.target, "127.0.0.1:9090");
});

test("POST /v1/config refuses a bad target, the name, unknown keys and an empty change, naming each", async () => {
  const { file, routes, applied } = clientRoutes();
  const before = readFileSync(file, "utf8");
  await refuses(call(routes, "POST /v1/config", { target: "localhost" }), 400, /"target" must be HOST:PORT, such as "127.0.0.1:8080", got "localhost"/);
  await refuses(call(routes, "POST /v1/config", { target: "127.0.0.1:70000" }), 400, /"target" must be HOST:PORT/);
  await refuses(call(routes, "POST /v1/config", { name: "new" }), 400, /name cannot be changed here: it is part of the registration/);
  await refuses(call(routes, "POST /v1/config", { ssh_host: "evil" }), 400, /"ssh_host" cannot be changed here \(editable: target\)/);
  await refuses(call(routes, "POST /v1/config", {}), 400, /nothing to change/);
  await refuses(call(routes, "POST /v1/config", "x"), 400, /JSON object/);
  assert.equal(readFileSync(file, "utf8"), before, "nothing was written");
  assert.equal(applied.length, 0);
});

test("token routes create, list and revoke enrollment tokens, and refuse bad input by name", async () => {
  writeFileSync(join(dir, "enroll.token"), "main-secret\n", { mode: 0o600 });
  const store = new TokenStore({ main: join(dir, "enroll.token"), extra: join(dir, "tokens.json") });
  const logged: string[] = [];
  const routes = tokenRoutes(store, (line) => logged.push(line));
  const created = await call(routes, "POST /v1/tokens", { label: "nas", expires: "1d", uses: 2 }) as { id: string; token: string; uses_left: number; expires: string };
  assert.match(created.token, new RegExp(`^${created.id}\\.[0-9a-f]{48}$`));
  assert.equal(created.uses_left, 2);
  assert.ok(Date.parse(created.expires) > Date.now());
  const listed = await call(routes, "GET /v1/tokens") as { id: string; secret?: string }[];
  assert.deepEqual(listed.map((t) => t.id), ["main", created.id]);
  assert.ok(listed.every((t) => t.secret === undefined), "no secret in the listing");
  await refuses(call(routes, "POST /v1/tokens", { expires: "soon" }), 400, /expires must look like 30m, 12h or 7d, got "soon"/);
  await refuses(call(routes, "POST /v1/tokens", { uses: 0 }), 400, /uses must be a whole number ≥ 1, got 0/);
  await refuses(call(routes, "POST /v1/tokens", { secret: "x" }), 400, /unknown field "secret"/);
  await refuses(call(routes, "POST /v1/tokens/:id/revoke", undefined, { id: "main" }), 400, /rotate/);
  await refuses(call(routes, "POST /v1/tokens/:id/revoke", undefined, { id: "t99" }), 404, /no token "t99"/);
  await call(routes, "POST /v1/tokens/:id/revoke", undefined, { id: created.id });
  assert.deepEqual((await call(routes, "GET /v1/tokens") as { id: string }[]).map((t) => t.id), ["main"]);
  assert.equal(logged.length, 2);
});

test("the token rotate route replaces the main token in its file and answers the new one", async () => {
  writeFileSync(join(dir, "enroll.token"), "main-secret\n", { mode: 0o600 });
  const store = new TokenStore({ main: join(dir, "enroll.token"), extra: join(dir, "tokens.json") });
  const logged: string[] = [];
  const rotated = await call(tokenRoutes(store, (line) => logged.push(line)), "POST /v1/tokens/rotate") as { id: string; token: string };
  assert.equal(rotated.id, "main");
  assert.notEqual(rotated.token, "main-secret");
  assert.equal(readFileSync(join(dir, "enroll.token"), "utf8"), `${rotated.token}\n`);
  assert.equal(store.lookup("main"), rotated.token);
  assert.deepEqual(logged, ["main enrollment token rotated from the control port"]);
});
