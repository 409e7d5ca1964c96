import { test } from "node:test";
import assert from "node:assert/strict";
import { SignInLinks } from "../../../../../lib/server/proxy/sign-in/links.ts";

test("SignInLinks.redeem() accepts a link once, for its client and token, before it expires", () => {
  const links = new SignInLinks(60_000);
  const { code, expiresAt } = links.issue(1001, "TOKEN", 1_000);
  assert.equal(expiresAt, 61_000);
  assert.match(code, /^[\w-]{32}$/);
  assert.equal(links.redeem(code, 1001, "TOKEN", 2_000), true);
  assert.equal(links.redeem(code, 1001, "TOKEN", 2_000), false, "spent");
});

test("SignInLinks.redeem() refuses an expired link, another client's, one from before a rotation, and spends it anyway", () => {
  const links = new SignInLinks(60_000);
  const expired = links.issue(1001, "TOKEN", 0).code;
  assert.equal(links.redeem(expired, 1001, "TOKEN", 60_000), false);
  const other = links.issue(1001, "TOKEN", 0).code;
  assert.equal(links.redeem(other, 1002, "TOKEN", 1), false);
  assert.equal(links.redeem(other, 1001, "TOKEN", 1), false, "a failed try spends the link");
  const rotated = links.issue(1001, "TOKEN", 0).code;
  assert.equal(links.redeem(rotated, 1001, "NEW", 1), false);
  assert.equal(links.redeem("made-up", 1001, "TOKEN", 1), false);
});
