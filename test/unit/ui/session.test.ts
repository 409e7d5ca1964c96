import { test } from "node:test";
import assert from "node:assert/strict";
import { CSRF_HEADER, LOGIN_CODE_TTL_MS, parseCookies, SESSION_IDLE_MS, SessionStore } from "../../../lib/ui/session.ts";

/** A store with a clock the test moves. */
function store() {
  const clock = { now: 1_000_000 };
  return { clock, sessions: new SessionStore("petit_client_3015", () => clock.now) };
}

/** Signs in and returns the Cookie header a browser would send, and the CSRF token. */
function signIn(sessions: SessionStore): { cookie: string; csrf: string } {
  const login = sessions.redeem(sessions.issueCode())!;
  const cookie = login.cookies.map((c) => c.split(";")[0]).join("; ");
  return { cookie, csrf: login.session.csrf };
}

test("redeem() trades a login code for HttpOnly SameSite=Strict session and CSRF cookies, once", () => {
  const { sessions } = store();
  const code = sessions.issueCode();
  const login = sessions.redeem(code);
  assert.ok(login);
  const [session, csrf] = login.cookies;
  assert.match(session, /^petit_client_3015_session=[\w-]{40,}; Path=\/ui; HttpOnly; SameSite=Strict$/);
  assert.match(csrf, /^petit_client_3015_csrf=[\w-]{30,}; Path=\/ui; SameSite=Strict$/);
  assert.doesNotMatch(csrf, /HttpOnly/, "the page's script must read the CSRF cookie");
  assert.equal(sessions.redeem(code), undefined, "a code works once");
});

test("redeem() refuses an unknown, empty or expired code", () => {
  const { clock, sessions } = store();
  assert.equal(sessions.redeem("nope"), undefined);
  assert.equal(sessions.redeem(""), undefined);
  assert.equal(sessions.redeem(null), undefined);
  const code = sessions.issueCode();
  clock.now += LOGIN_CODE_TTL_MS + 1;
  assert.equal(sessions.redeem(code), undefined);
});

test("authorize() lets a session read, and write only with the matching CSRF header", () => {
  const { sessions } = store();
  const { cookie, csrf } = signIn(sessions);
  assert.equal(sessions.authorize("GET", { cookie }), undefined);
  assert.equal(sessions.authorize("POST", { cookie, [CSRF_HEADER]: csrf }), undefined);
  assert.equal(sessions.authorize("POST", { cookie })?.status, 403);
  assert.equal(sessions.authorize("POST", { cookie, [CSRF_HEADER]: "forged" })?.status, 403);
  assert.match(sessions.authorize("POST", { cookie })!.message, /x-petit-csrf/);
});

test("authorize() refuses a CSRF token that matches the cookie but belongs to another session", () => {
  const { sessions } = store();
  const a = signIn(sessions);
  const b = signIn(sessions);
  // Session a's cookie with b's CSRF cookie and header: a double submit alone would pass.
  const mixed = `petit_client_3015_session=${parseCookies(a.cookie).petit_client_3015_session}; petit_client_3015_csrf=${b.csrf}`;
  assert.equal(sessions.authorize("POST", { cookie: mixed, [CSRF_HEADER]: b.csrf })?.status, 403);
});

test("authorize() answers 401 without a session, with a stale one, and after end()", () => {
  const { clock, sessions } = store();
  assert.equal(sessions.authorize("GET", {})?.status, 401);
  assert.match(sessions.authorize("GET", {})!.message, /petit ui/);
  assert.equal(sessions.authorize("GET", { cookie: "petit_client_3015_session=made-up" })?.status, 401);
  const idle = signIn(sessions);
  clock.now += SESSION_IDLE_MS + 1;
  assert.equal(sessions.authorize("GET", { cookie: idle.cookie })?.status, 401);
  const ended = signIn(sessions);
  const cleared = sessions.end(ended.cookie);
  assert.ok(cleared.every((c) => c.includes("Max-Age=0")));
  assert.equal(sessions.authorize("GET", { cookie: ended.cookie })?.status, 401);
});

test("a session of one daemon is not one of another daemon on another port", () => {
  const { sessions } = store();
  const other = new SessionStore("petit_relay_3016");
  const { cookie, csrf } = signIn(sessions);
  assert.equal(other.authorize("POST", { cookie, [CSRF_HEADER]: csrf })?.status, 401);
});

test("parseCookies() reads names and values and keeps the first of duplicates", () => {
  assert.deepEqual({ ...parseCookies("a=1; b=two=2;c=3; a=4; junk") }, { a: "1", b: "two=2", c: "3" });
  assert.deepEqual({ ...parseCookies(undefined) }, {});
  assert.equal(parseCookies("__proto__=x").__proto__, "x");
});
