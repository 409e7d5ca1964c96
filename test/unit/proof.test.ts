/**
 * makeProof() and ProofChecker: an HMAC proof of the enrollment token is
 * accepted once, for its own body, within the clock skew limit.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { PROOF_MAX_SKEW_SECONDS } from "../../lib/constants.ts";
import { makeProof, ProofChecker } from "../../lib/proof.ts";

const TOKEN = "s3cret-enrollment-token";
const BODY = JSON.stringify({ public_key: "ssh-ed25519 AAAA", name: "shop" });
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Splits a proof header into its t, n and s fields. */
function fields(header: string): Record<string, string> {
  return Object.fromEntries(header.split(",").map((p) => p.split("=") as [string, string]));
}

describe("proof of the enrollment token", () => {
  test("makeProof() returns t, n and s with the time in seconds and a 128-bit nonce", () => {
    const f = fields(makeProof(TOKEN, BODY, NOW + 999));
    assert.deepEqual(Object.keys(f), ["t", "n", "s"]);
    assert.equal(f.t, String(NOW / 1000));
    assert.match(f.n, /^[0-9a-f]{32}$/);
    assert.match(f.s, /^[0-9a-f]{64}$/);
    assert.notEqual(fields(makeProof(TOKEN, BODY, NOW)).n, f.n, "each proof has a fresh nonce");
  });

  test("makeProof() signs an HMAC-SHA256 of the time, nonce and body hash, never the token itself", () => {
    const header = makeProof(TOKEN, BODY, NOW);
    const f = fields(header);
    const digest = createHash("sha256").update(BODY).digest("hex");
    const expected = createHmac("sha256", TOKEN).update(`petit-register\n${f.t}\n${f.n}\n${digest}`).digest("hex");
    assert.equal(f.s, expected);
    assert.ok(!header.includes(TOKEN));
  });

  test("ProofChecker.check() accepts a valid proof once and refuses its replay", () => {
    const checker = new ProofChecker(() => TOKEN);
    const header = makeProof(TOKEN, BODY, NOW);
    assert.equal(checker.check(header, BODY, NOW + 1000), undefined);
    assert.match(checker.check(header, BODY, NOW + 2000) ?? "", /replay/);
    assert.equal(checker.check(makeProof(TOKEN, BODY, NOW), BODY, NOW + 3000), undefined, "a new proof still passes");
  });

  test("ProofChecker.check() still refuses a replay after other requests passed", () => {
    const checker = new ProofChecker(() => TOKEN);
    const first = makeProof(TOKEN, BODY, NOW);
    assert.equal(checker.check(first, BODY, NOW), undefined);
    for (let i = 1; i <= 20; i++) assert.equal(checker.check(makeProof(TOKEN, BODY, NOW + i * 10_000), BODY, NOW + i * 10_000), undefined);
    assert.ok(checker.check(first, BODY, NOW + 250_000));
  });

  test("ProofChecker.check() refuses a replay at every moment up to and past the proof's expiry", () => {
    const checker = new ProofChecker(() => TOKEN);
    const limit = PROOF_MAX_SKEW_SECONDS * 1000;
    // Made as far in the future as allowed: it stays fresh for twice the skew limit.
    const header = makeProof(TOKEN, BODY, NOW + limit);
    assert.equal(checker.check(header, BODY, NOW), undefined);
    for (const later of [1, limit, 2 * limit - 1, 2 * limit, 2 * limit + 1, 2 * limit + 1000, 10 * limit]) {
      assert.ok(checker.check(header, BODY, NOW + later), `replay ${later} ms later was accepted`);
    }
  });

  test("ProofChecker.check() refuses a proof made with the wrong token", () => {
    const checker = new ProofChecker(() => TOKEN);
    assert.match(checker.check(makeProof("another-token", BODY, NOW), BODY, NOW) ?? "", /wrong enrollment token/);
    assert.match(checker.check(makeProof("", BODY, NOW), BODY, NOW) ?? "", /wrong enrollment token/);
  });

  test("ProofChecker.check() uses the current token, so a rotated token refuses old proofs", () => {
    let token = TOKEN;
    const checker = new ProofChecker(() => token);
    const header = makeProof(TOKEN, BODY, NOW);
    token = "rotated";
    assert.match(checker.check(header, BODY, NOW) ?? "", /wrong enrollment token/);
  });

  test("ProofChecker.check() refuses a proof for a tampered body", () => {
    const checker = new ProofChecker(() => TOKEN);
    const header = makeProof(TOKEN, BODY, NOW);
    for (const body of [BODY.replace("shop", "shoq"), BODY + " ", "", BODY.slice(0, -1)]) {
      assert.match(checker.check(header, body, NOW) ?? "", /wrong enrollment token/, body);
    }
    assert.equal(checker.check(header, BODY, NOW), undefined, "the refusals did not use up the nonce");
  });

  test("ProofChecker.check() refuses a tampered time, nonce or signature", () => {
    const checker = new ProofChecker(() => TOKEN);
    const f = fields(makeProof(TOKEN, BODY, NOW));
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    for (const header of [
      `t=${Number(f.t) + 1},n=${f.n},s=${f.s}`, `t=${f.t},n=${flip(f.n)},s=${f.s}`, `t=${f.t},n=${f.n},s=${flip(f.s)}`,
    ]) assert.match(checker.check(header, BODY, NOW) ?? "", /wrong enrollment token/, header);
  });

  test(`ProofChecker.check() accepts a clock skew up to ${PROOF_MAX_SKEW_SECONDS} s either way and refuses more`, () => {
    const checker = new ProofChecker(() => TOKEN);
    const limit = PROOF_MAX_SKEW_SECONDS * 1000;
    assert.equal(checker.check(makeProof(TOKEN, BODY, NOW - limit), BODY, NOW), undefined);
    assert.equal(checker.check(makeProof(TOKEN, BODY, NOW + limit), BODY, NOW), undefined);
    const late = checker.check(makeProof(TOKEN, BODY, NOW - limit - 1000), BODY, NOW);
    assert.match(late ?? "", new RegExp(`${PROOF_MAX_SKEW_SECONDS + 1} s away .*at most ${PROOF_MAX_SKEW_SECONDS} s`));
    assert.match(checker.check(makeProof(TOKEN, BODY, NOW + limit + 1000), BODY, NOW) ?? "", /away from the relay's clock/);
    assert.match(checker.check(makeProof(TOKEN, BODY, 0), BODY, NOW) ?? "", /away from the relay's clock/);
  });

  test("ProofChecker.check() refuses a missing or malformed header", () => {
    const checker = new ProofChecker(() => TOKEN);
    const valid = makeProof(TOKEN, BODY, NOW);
    const f = fields(valid);
    for (const header of [
      undefined, "", "garbage", valid + ",x=1", ` ${valid}`, valid.toUpperCase(),
      `n=${f.n},t=${f.t},s=${f.s}`, `t=${f.t},n=${f.n.slice(1)},s=${f.s}`, `t=${f.t},n=${f.n},s=${f.s}0`,
      `t=-${f.t},n=${f.n},s=${f.s}`, `t=${f.t}.5,n=${f.n},s=${f.s}`, `t=${f.t},n=${f.n}`,
    ]) {
      assert.equal(checker.check(header, BODY, NOW), "missing or malformed proof of the enrollment token", String(header));
    }
  });
});
