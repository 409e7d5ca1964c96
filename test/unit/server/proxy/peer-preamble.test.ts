/**
 * signPreamble() and verifyPreamble(): the line a relay sends first on a
 * connection it forwards to another, one test per field and per refusal.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MAX_PREAMBLE_BYTES, NonceMemory, PREAMBLE_WINDOW_MS, signPreamble, verifyPreamble } from "../../../../lib/server/proxy/peer-preamble.ts";

const SECRET = "ab".repeat(32);
const NOW = 1_760_000_000_000;
const line = (visitor = "203.0.113.7", from = "relay-a.example:80", now = NOW) => signPreamble(SECRET, from, visitor, now);
const verify = (buf: Buffer, now = NOW, seen = new NonceMemory()) => verifyPreamble(buf, SECRET, seen, now);

describe("the relay-to-relay line", () => {
  test("verifyPreamble() accepts a line signed with the same secret, names its sender and visitor, and leaves what follows", () => {
    const signed = line();
    const result = verify(Buffer.concat([signed, Buffer.from("GET / HTTP/1.1\r\n")]));
    assert.deepEqual(result, { from: "relay-a.example:80", visitor: "203.0.113.7", length: signed.length });
  });

  test("verifyPreamble() accepts an IPv6 visitor", () => {
    assert.equal((verify(line("2001:db8::7")) as { visitor: string }).visitor, "2001:db8::7");
  });

  test("verifyPreamble() leaves bytes that are no relay line to the HTTP parser", () => {
    assert.equal(verify(Buffer.from("GET / HTTP/1.1\r\n")), undefined);
    assert.equal(verify(Buffer.from("PETIT-NODE/2 a b c d e\r\n")), undefined);
  });

  test("verifyPreamble() waits for a line cut anywhere before its CRLF, the prefix included", () => {
    const signed = line();
    for (const cut of [1, 5, 13, signed.length - 1]) assert.equal(verify(signed.subarray(0, cut)), "more", `cut at ${cut}`);
  });

  test("verifyPreamble() refuses a line longer than MAX_PREAMBLE_BYTES without a line feed", () => {
    const long = Buffer.concat([Buffer.from("PETIT-NODE/1 "), Buffer.alloc(MAX_PREAMBLE_BYTES, 0x61)]);
    assert.deepEqual(verify(long), { refused: `the line is longer than ${MAX_PREAMBLE_BYTES} bytes` });
  });

  test("verifyPreamble() refuses a bare LF line ending", () => {
    const signed = line();
    const bare = Buffer.concat([signed.subarray(0, signed.length - 2), Buffer.from("\n")]);
    assert.deepEqual(verify(bare), { refused: "the line must end with CRLF within 512 bytes" });
  });

  test("verifyPreamble() refuses a visitor that is not an IP address, a node name with a space, and a short signature", () => {
    const text = line().toString("latin1");
    assert.deepEqual(verify(Buffer.from(text.replace("203.0.113.7", "evil.example"))), { refused: "a field is malformed" });
    assert.deepEqual(verify(Buffer.from(text.replace("relay-a.example:80", "relay a"))), { refused: "the line must have 5 fields" });
    assert.deepEqual(verify(Buffer.from(text.replace(/[0-9a-f]{64}\r\n$/, "abcd\r\n"))), { refused: "a field is malformed" });
  });

  test("verifyPreamble() refuses a line signed with another secret, and one whose visitor was changed after signing", () => {
    assert.deepEqual(verify(signPreamble("cd".repeat(32), "relay-a", "203.0.113.7", NOW)), { refused: "the signature does not match the store's node secret" });
    const changed = Buffer.from(line().toString("latin1").replace("203.0.113.7", "203.0.113.8"));
    assert.deepEqual(verify(changed), { refused: "the signature does not match the store's node secret" });
  });

  test("verifyPreamble() refuses a line older or further ahead than PREAMBLE_WINDOW_MS", () => {
    assert.match((verify(line(), NOW + PREAMBLE_WINDOW_MS + 1_000) as { refused: string }).refused, /^the line is 61 s old or ahead/);
    assert.match((verify(line(), NOW - PREAMBLE_WINDOW_MS - 1_000) as { refused: string }).refused, /^the line is 61 s old or ahead/);
    assert.ok("visitor" in (verify(line(), NOW + PREAMBLE_WINDOW_MS - 1_000) as object));
  });

  test("verifyPreamble() accepts a line once: the same line again is a replay", () => {
    const seen = new NonceMemory();
    const signed = line();
    assert.ok("visitor" in (verify(signed, NOW, seen) as object));
    assert.deepEqual(verify(signed, NOW + 1_000, seen), { refused: "the line was used before (a replay)" });
  });

  test("NonceMemory forgets nonces only after two windows, when their lines are refused by their time anyway", () => {
    const seen = new NonceMemory();
    assert.equal(seen.claim("n1", NOW), true);
    assert.equal(seen.claim("n1", NOW + PREAMBLE_WINDOW_MS), false);
    assert.equal(seen.claim("n2", NOW + 2 * PREAMBLE_WINDOW_MS + 1), true);
    assert.equal(seen.claim("n1", NOW + 2 * PREAMBLE_WINDOW_MS + 2), false, "kept one more window");
  });
});
