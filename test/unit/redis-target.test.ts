import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redisTarget } from "../../core/redis-target.ts";

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
});
