import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RateLimiter } from "../../core/rate-limiter.ts";

describe("the rate limiter", () => {
  it("lets a burst through at once, then spaces calls at the configured rate", () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 3, now: () => 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => limiter.reserve()), [0, 0, 0, 100, 200, 300]);
  });

  it("refills with time, never beyond the burst", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 10, burst: 2, now: () => now });
    limiter.reserve();
    limiter.reserve();
    now = 10_000;
    assert.deepEqual([1, 2, 3].map(() => limiter.reserve()), [0, 0, 100]);
  });

  it("keeps 100 calls made at once within the rate: the last waits (100 - burst) / rate seconds", () => {
    const limiter = new RateLimiter({ perSecond: 20, now: () => 0 });
    const waits = Array.from({ length: 100 }, () => limiter.reserve());
    assert.equal(waits.filter((wait) => wait === 0).length, 20);
    assert.equal(waits.at(-1), 4_000);
    assert.ok(waits.every((wait, index) => index === 0 || wait >= waits[index - 1]!), "in order");
  });

  it("takes a token only when one is there, for work that is skipped rather than delayed", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 1, burst: 2, now: () => now });
    assert.deepEqual([1, 2, 3].map(() => limiter.tryTake()), [true, true, false]);
    now = 999;
    assert.equal(limiter.tryTake(), false, "a token is not there before a second has passed");
    now = 1_000;
    assert.equal(limiter.tryTake(), true);
  });

  it("says when its bucket is full again, so an idle one can be forgotten", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 1, burst: 2, now: () => now });
    assert.equal(limiter.full(), true);
    limiter.tryTake();
    assert.equal(limiter.full(), false);
    now = 1_000;
    assert.equal(limiter.full(), true);
  });
});
