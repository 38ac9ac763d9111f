/** A real Redis (Debian's redis-server) on a free loopback port, started per test file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedisServer } from "../../sandbox/redis.ts";

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "zf-redis-"));
  const redis = await startRedisServer({ dir });
  return {
    url: redis.url,
    port: redis.port,
    stop: async () => {
      await redis.process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
