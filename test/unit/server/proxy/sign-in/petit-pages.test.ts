import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "node:net";
import { answerPetitPath, isPetitPath } from "../../../../../lib/server/proxy/sign-in/petit-pages.ts";
import { SignIn } from "../../../../../lib/server/proxy/sign-in/sign-in.ts";
import type { ProxyOptions, ProxyRequest } from "../../../../../lib/server/proxy/types.ts";
import { VisitorGate } from "../../../../../lib/server/proxy/visitor-auth.ts";

const signIn = new SignIn({ secret: "s".repeat(64), now: () => 1_800_000_000_000 });
const access = { token: "TOKEN", public: false, allow_from: [] as string[] };
const options = (tls = true): ProxyOptions => ({
  domain: "relay.test", log: () => {}, gate: new VisitorGate(undefined), signIn,
  resolve: (label) => (label === "shop" ? { id: 1001, port: 11000, access } : undefined),
  tls: tls ? { key: "", cert: "" } : undefined,
});
function ask(method: string, url: string, body = "", opts = options()) {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: "198.51.100.4" });
  const req: ProxyRequest = { method, url, headers: { host: "shop.relay.test" }, socket };
  return Promise.resolve(answerPetitPath(req, { body, origin: "https://shop.relay.test" }, opts, opts.signIn ?? signIn));
}

test("isPetitPath() is true for /.petit/ and its pages only", () => {
  for (const yes of ["/.petit/", "/.petit/sign-in?next=/", "/.petit", "/.petit?x"]) assert.equal(isPetitPath(yes), true, yes);
  for (const no of ["/", "/.petitx", "/.well-known/x", "/a/.petit/", "*"]) assert.equal(isPetitPath(no), false, no);
});

test("answerPetitPath() answers 404 for pages petit does not have and for hosts with no tunnel", async () => {
  assert.equal((await ask("GET", "/.petit/admin")).status, 404);
  const socket = new Socket();
  const req: ProxyRequest = { method: "GET", url: "/.petit/sign-in", headers: { host: "nobody.relay.test" }, socket };
  assert.equal((await answerPetitPath(req, { body: "", origin: undefined }, options(), signIn)).status, 404);
});

test("answerPetitPath() answers 405 for methods the sign-in page does not take", async () => {
  const res = await ask("PUT", "/.petit/sign-in");
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, "GET, HEAD, POST");
});

test("answerPetitPath() signs in with the right token: 303 to the path asked for, with the __Host- cookie", async () => {
  const res = await ask("POST", "/.petit/sign-in", "token=TOKEN&next=%2Fa%3Fb");
  assert.equal(res.status, 303);
  assert.equal(res.headers.location, "/a?b");
  assert.match(res.headers["set-cookie"], /^__Host-petit=1\.\d+\.[\w-]{43}; Path=\/; Max-Age=43200; Secure; HttpOnly; SameSite=Lax$/);
});

test("answerPetitPath() refuses a wrong or empty token with the form again (401) and no cookie", async () => {
  for (const body of ["token=WRONG", "token=", ""]) {
    const res = await ask("POST", "/.petit/sign-in", body);
    assert.equal(res.status, 401, body);
    assert.equal(res.headers["set-cookie"], undefined);
    assert.match(res.html ?? "", /Wrong access token/);
  }
});

test("answerPetitPath() over plain HTTP shows why sign-in needs HTTPS and never sets a cookie", async () => {
  assert.equal((await ask("GET", "/.petit/sign-in", "", options(false))).status, 401);
  const post = await ask("POST", "/.petit/sign-in", "token=TOKEN", options(false));
  assert.equal(post.status, 403);
  assert.equal(post.headers["set-cookie"], undefined);
  assert.match(post.html ?? "", /needs HTTPS/);
});

test("answerPetitPath() signs in with a link once: the second use gets the form again, saying the link was used", async () => {
  const { code } = signIn.links.issue(1001, "TOKEN", 1_800_000_000_000);
  const body = `link=${encodeURIComponent(code)}&next=%2F`;
  const first = await ask("POST", "/.petit/sign-in", body);
  assert.equal(first.status, 303);
  assert.match(first.headers["set-cookie"], /^__Host-petit=/);
  const again = await ask("POST", "/.petit/sign-in", body);
  assert.equal(again.status, 401);
  assert.match(again.html ?? "", /used already/);
});

test("answerPetitPath() answers 503 and keeps the link good when the store that spends links cannot be reached", async () => {
  let away = true;
  const shared = new SignIn({
    secret: "s".repeat(64), now: () => 1_800_000_000_000,
    claimNonce: async () => {
      if (away) throw new Error("the relay's store cannot be reached");
      return true;
    },
  });
  const { code } = shared.links.issue(1001, "TOKEN", 1_800_000_000_000);
  const opts = { ...options(), signIn: shared };
  const body = `link=${encodeURIComponent(code)}`;
  const down = await ask("POST", "/.petit/sign-in", body, opts);
  assert.equal(down.status, 503);
  assert.match(down.html ?? "", /Your link is still good/);
  away = false;
  assert.equal((await ask("POST", "/.petit/sign-in", body, opts)).status, 303);
});
