/** Debian's redis-server on a free loopback port, without persistence: the sandbox's and the tests' Redis. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, startProcess, waitFor, type Managed } from "./processes.ts";

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly process: Managed;
}

export async function startRedisServer(options: { readonly dir: string; readonly detached?: boolean }): Promise<RedisServer> {
  const port = await freePort();
  mkdirSync(options.dir, { recursive: true });
  const redis = startProcess(
    "redis-server",
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", options.dir],
    { logFile: join(options.dir, "redis.log"), detached: options.detached === true },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(() => ping(url), 10_000, () => `redis-server did not answer on ${url}; is Debian's redis-server installed (scripts/setup.sh)?\n${redis.tail()}`, redis);
  return { url, port, process: redis };
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } finally {
    client.disconnect();
  }
}
