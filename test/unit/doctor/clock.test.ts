/**
 * clockSkewSeconds() and judgeClockSkew(): the relay's Date header against
 * this machine's clock.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { clockSkewSeconds, judgeClockSkew } from "../../../lib/doctor/clock.ts";

describe("clock skew", () => {
  test("clockSkewSeconds() compares the middle of the request with the middle of the Date header's second", () => {
    const now = Date.parse("2026-01-01T12:00:00.000Z");
    assert.equal(clockSkewSeconds("Thu, 01 Jan 2026 12:00:00 GMT", now + 400, now + 600), 0);
    assert.equal(clockSkewSeconds("Thu, 01 Jan 2026 11:55:00 GMT", now + 500, now + 500), 300);
    assert.equal(clockSkewSeconds("Thu, 01 Jan 2026 12:02:00 GMT", now + 500, now + 500), -120);
    assert.equal(clockSkewSeconds("not a date", now, now), undefined);
  });

  test("judgeClockSkew() is ok up to 60 s, warns up to 300 s and fails beyond", () => {
    assert.equal(judgeClockSkew(0.2).status, "ok");
    assert.equal(judgeClockSkew(-60).status, "ok");
    const warned = judgeClockSkew(-120);
    assert.equal(warned.status, "warn");
    assert.match(warned.message, /120 s behind the relay's/);
    const failed = judgeClockSkew(400);
    assert.equal(failed.status, "fail");
    assert.match(failed.message, /400 s ahead of the relay's: beyond 300 s the relay refuses registrations/);
    assert.match(failed.status === "fail" ? failed.fix : "", /timedatectl set-ntp true/);
  });
});
