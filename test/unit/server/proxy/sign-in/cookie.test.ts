import { test } from "node:test";
import assert from "node:assert/strict";
import {
  COOKIE_NAME, hasValidCookie, makeCookieValue, petitCookies, setCookieHeader, verifyCookieValue, withoutPetitCookie,
} from "../../../../../lib/server/proxy/sign-in/cookie.ts";

const SECRET = "a".repeat(64);
const NOW = 1_800_000_000;

test("makeCookieValue() makes a value verifyCookieValue() accepts for the same client and token until it expires", () => {
  const value = makeCookieValue(SECRET, 1001, "TOKEN", NOW, 60);
  assert.match(value, /^1\.1800000060\.[\w-]{43}$/);
  assert.equal(verifyCookieValue(SECRET, value, 1001, "TOKEN", NOW), true);
  assert.equal(verifyCookieValue(SECRET, value, 1001, "TOKEN", NOW + 59), true);
  assert.equal(verifyCookieValue(SECRET, value, 1001, "TOKEN", NOW + 60), false, "expired");
});

test("verifyCookieValue() refuses a cookie of another client, another token or another relay secret", () => {
  const value = makeCookieValue(SECRET, 1001, "TOKEN", NOW);
  assert.equal(verifyCookieValue(SECRET, value, 1002, "TOKEN", NOW), false);
  assert.equal(verifyCookieValue(SECRET, value, 1001, "ROTATED", NOW), false);
  assert.equal(verifyCookieValue("b".repeat(64), value, 1001, "TOKEN", NOW), false);
});

test("verifyCookieValue() refuses a moved expiry, a bad version and malformed values", () => {
  const value = makeCookieValue(SECRET, 1001, "TOKEN", NOW, 60);
  const [, , mac] = value.split(".");
  for (const bad of [
    `1.${NOW + 999_999}.${mac}`, `2.${NOW + 60}.${mac}`, `1.${NOW + 60}.${mac}x`, `1.${NOW + 60}.${mac.slice(1)}`,
    `1.0${NOW + 60}.${mac}`, `1.+${NOW + 60}.${mac}`, "", "1", "1..", `.${NOW + 60}.${mac}`, `11.${NOW + 60}.${mac}`,
  ]) assert.equal(verifyCookieValue(SECRET, bad, 1001, "TOKEN", NOW), false, bad);
});

test("setCookieHeader() keeps the cookie to this host, HTTPS, no scripts, and same-site navigation", () => {
  assert.equal(setCookieHeader("V", 60), `${COOKIE_NAME}=V; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax`);
});

test("petitCookies() finds petit's cookie among others and ignores names that only begin like it", () => {
  assert.deepEqual(petitCookies(`a=1; ${COOKIE_NAME}=X; b=2`), ["X"]);
  assert.deepEqual(petitCookies(`${COOKIE_NAME}x=Y; ${COOKIE_NAME}=Z`), ["Z"]);
  assert.deepEqual(petitCookies("a=1"), []);
});

test("withoutPetitCookie() removes petit's cookie and keeps the others in order", () => {
  assert.equal(withoutPetitCookie(`a=1; ${COOKIE_NAME}=X; b=2`), "a=1; b=2");
  assert.equal(withoutPetitCookie(`${COOKIE_NAME}=X`), "");
  assert.equal(withoutPetitCookie(`${COOKIE_NAME}x=Y;${COOKIE_NAME}=X`), `${COOKIE_NAME}x=Y`);
});

test("hasValidCookie() accepts a header holding a valid cookie next to a stale one", () => {
  const good = makeCookieValue(SECRET, 1001, "TOKEN", NOW);
  const stale = makeCookieValue(SECRET, 1001, "OLD", NOW);
  assert.equal(hasValidCookie(SECRET, `${COOKIE_NAME}=${stale}; ${COOKIE_NAME}=${good}`, 1001, "TOKEN", NOW), true);
  assert.equal(hasValidCookie(SECRET, `${COOKIE_NAME}=${stale}`, 1001, "TOKEN", NOW), false);
  assert.equal(hasValidCookie(SECRET, "session=1", 1001, "TOKEN", NOW), false);
});
