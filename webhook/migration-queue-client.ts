/**
 * The webhook's side of the migration queue: a BullMQ producer on a Redis connection tuned to
 * fail fast, so a Redis outage costs an admission nothing but a warning.
 */
import { Queue } from "bullmq";
import { connectRedis, redisTarget } from "../core/redis-target.ts";
import type { Logger } from "pino";
import { MIGRATION_QUEUE } from "../core/migration-queue.ts";

export interface MigrationQueueClient {
  readonly queue: Queue;
  close(): Promise<void>;
}

export function connectMigrationQueue(redisUrl: string, logger: Logger, queueName: string = MIGRATION_QUEUE): MigrationQueueClient {
  // No offline queue: while Redis is down an add fails at once instead of waiting out the budget;
  // ioredis keeps reconnecting in the background.
  const connection = connectRedis(redisTarget(redisUrl) ?? { kind: "url", url: redisUrl }, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on("error", (error: Error) => { logger.debug({ err: error }, "redis connection error"); });
  const queue = new Queue(queueName, { connection });
  queue.on("error", (error: Error) => { logger.debug({ err: error }, "migration queue error"); });
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}
