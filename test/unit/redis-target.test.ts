import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactRedisUrl, redisTarget } from "../../core/redis-target.ts";

describe("REDIS_URL", () => {
  it("takes redis:// and rediss:// URLs as they are", () => {
    assert.deepEqual(redisTarget("rediss://user:secret@redis.infra:6380/2"), { kind: "url", url: "rediss://user:secret@redis.infra:6380/2" });
  });

  it("reads a Sentinel group: its sentinels, the master's name, the password for both, the database", () => {
    assert.deepEqual(redisTarget("redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-b.infra:26380/mymaster/3"), {
      kind: "sentinel",
      options: { sentinels: [{ host: "10.0.0.1", port: 26379 }, { host: "sentinel-b.infra", port: 26380 }], name: "mymaster", password: "s@cret", sentinelPassword: "s@cret", db: 3 },
    });
    assert.deepEqual(redisTarget("redis+sentinel://[::1]:26379/queue"), { kind: "sentinel", options: { sentinels: [{ host: "::1", port: 26379 }], name: "queue" } });
  });

  it("refuses what is neither: no scheme, a sentinel without a port, no master name", () => {
    for (const url of ["localhost:6379", "http://redis:6379", "redis+sentinel://sentinel-a/mymaster", "redis+sentinel://10.0.0.1:26379", "redis+sentinel://10.0.0.1:26379,/m"]) {
      assert.equal(redisTarget(url), undefined, url);
    }
  });

  it("shows a URL without its password: the user stays, a lone word is taken for a password, a query password goes too", () => {
    assert.equal(redactRedisUrl("rediss://queue:s3cr%40t@redis.infra:6380/2"), "rediss://queue:***@redis.infra:6380/2");
    assert.equal(redactRedisUrl("redis://:s3cret@redis.infra:6379"), "redis://:***@redis.infra:6379");
    assert.equal(redactRedisUrl("redis://s3cret@redis.infra:6379"), "redis://:***@redis.infra:6379");
    assert.equal(redactRedisUrl("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379/mymaster"), "redis+sentinel://:***@10.0.0.1:26379,10.0.0.2:26379/mymaster");
    assert.equal(redactRedisUrl("redis://redis.infra:6379/0?password=s3cret&db=1"), "redis://redis.infra:6379/0?password=***&db=1");
  });

  it("redacts what a malformed value holds before its last @, and leaves a URL without credentials as it is", () => {
    assert.equal(redactRedisUrl("redis//:pass@word@redis.infra"), "redis//:***@redis.infra");
    assert.equal(redactRedisUrl("redis://redis.infra:6379/0"), "redis://redis.infra:6379/0");
    assert.equal(redactRedisUrl("localhost:6379"), "localhost:6379");
  });
});
