import { test } from "node:test";
import assert from "node:assert/strict";
import { SignInLinks } from "../../../../../lib/server/proxy/sign-in/links.ts";

const SECRET = "k".repeat(64);

test("SignInLinks.redeem() accepts a link once, for its client and token, before it expires", async () => {
  const links = new SignInLinks(SECRET, undefined, 60_000);
  const { code, expiresAt } = links.issue(1001, "TOKEN", 1_000);
  assert.equal(expiresAt, 61_000);
  assert.match(code, /^1001\.61000\.[\w-]{22}\.[\w-]{43}$/);
  assert.equal(await links.redeem(code, 1001, "TOKEN", 2_000), true);
  assert.equal(await links.redeem(code, 1001, "TOKEN", 2_000), false, "spent");
});

test("SignInLinks.redeem() refuses an expired link, another client's, one from before a rotation, a forged or altered one", async () => {
  const links = new SignInLinks(SECRET, undefined, 60_000);
  const expired = links.issue(1001, "TOKEN", 0).code;
  assert.equal(await links.redeem(expired, 1001, "TOKEN", 60_000), false);
  const other = links.issue(1001, "TOKEN", 0).code;
  assert.equal(await links.redeem(other, 1002, "TOKEN", 1), false);
  assert.equal(await links.redeem(other.replace(/^1001/, "1002"), 1002, "TOKEN", 1), false, "the client is under the MAC");
  assert.equal(await links.redeem(other.replace(".60000.", ".99999999."), 1001, "TOKEN", 1), false,
    "so is the expiry");
  const rotated = links.issue(1001, "TOKEN", 0).code;
  assert.equal(await links.redeem(rotated, 1001, "NEW", 1), false);
  assert.equal(await links.redeem(rotated, 1001, "TOKEN", 1), true, "failed tries on another host or token do not spend it");
  const elsewhere = new SignInLinks("x".repeat(64), undefined, 60_000);
  assert.equal(await elsewhere.redeem(links.issue(1001, "TOKEN", 0).code, 1001, "TOKEN", 1), false, "another secret's link");
  assert.equal(await links.redeem("made-up", 1001, "TOKEN", 1), false);
});

test("SignInLinks made under one secret work on every relay holding it, and once across all of them when they share a claim", async () => {
  // The store's nonces, as relays sharing it see them.
  const claimed = new Set<string>();
  const claim = async (nonce: string) => !claimed.has(nonce) && Boolean(claimed.add(nonce));
  const a = new SignInLinks(SECRET, claim, 60_000);
  const b = new SignInLinks(SECRET, claim, 60_000);
  const { code } = a.issue(1001, "TOKEN", 0);
  assert.equal(await b.redeem(code, 1001, "TOKEN", 1), true, "made on relay A, used on relay B");
  assert.equal(await a.redeem(code, 1001, "TOKEN", 1), false, "then spent on relay A too");
  assert.deepEqual([...claimed].map((n) => n.split(" ")[0]), ["sign-in-link"]);
});
