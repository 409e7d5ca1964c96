/**
 * retryDelay(): exponential steps from `first`, capped, jittered between
 * half and all of the step.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_BACKOFF, retryDelay, type BackoffOptions } from "../../../lib/client/backoff.ts";

const OPTIONS: BackoffOptions = { first: 1000, cap: 20_000, fatal: 60_000 };
const low = () => 0;
const high = () => 0.999999;

describe("retryDelay()", () => {
  test("retryDelay() spans half to all of the step as random() goes from 0 to 1", () => {
    assert.equal(retryDelay(1, OPTIONS, low), 500);
    assert.equal(retryDelay(1, OPTIONS, () => 0.5), 750);
    assert.equal(retryDelay(1, OPTIONS, high), 1000);
  });

  test("retryDelay() doubles the step with each attempt until the cap", () => {
    const steps = [1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelay(attempt, OPTIONS, high));
    assert.deepEqual(steps, [1000, 2000, 4000, 8000, 16_000, 20_000, 20_000]);
  });

  test("retryDelay() never exceeds the cap, even for huge attempt numbers", () => {
    for (const attempt of [30, 1024, 1e6, Number.MAX_SAFE_INTEGER]) {
      assert.equal(retryDelay(attempt, OPTIONS, high), OPTIONS.cap, String(attempt));
      assert.equal(retryDelay(attempt, OPTIONS, low), OPTIONS.cap / 2, String(attempt));
    }
  });

  test("retryDelay() treats attempt 0 and negative attempts like the first retry", () => {
    for (const attempt of [0, -1, -100]) {
      assert.equal(retryDelay(attempt, OPTIONS, high), OPTIONS.first, String(attempt));
    }
  });

  test("retryDelay() keeps every jittered delay within [step/2, step] and spreads them", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const step = Math.min(OPTIONS.cap, OPTIONS.first * 2 ** (attempt - 1));
      const delays = Array.from({ length: 200 }, () => retryDelay(attempt, OPTIONS, random));
      for (const d of delays) assert.ok(d >= step / 2 && d <= step, `attempt ${attempt}: ${d} outside [${step / 2}, ${step}]`);
      assert.ok(new Set(delays).size > 50, `attempt ${attempt}: delays are not spread`);
    }
  });

  test("retryDelay() uses the defaults: 0.5 s first, 30 s cap", () => {
    assert.equal(retryDelay(1, undefined, high), DEFAULT_BACKOFF.first);
    assert.equal(retryDelay(100, undefined, high), DEFAULT_BACKOFF.cap);
    assert.equal(DEFAULT_BACKOFF.first, 500);
    assert.equal(DEFAULT_BACKOFF.cap, 30_000);
    assert.ok(DEFAULT_BACKOFF.fatal > DEFAULT_BACKOFF.cap);
  });

  test("retryDelay() with Math.random stays within bounds", () => {
    for (let i = 0; i < 1000; i++) {
      const d = retryDelay(3);
      assert.ok(d >= 1000 && d <= 2000, String(d));
    }
  });
});
