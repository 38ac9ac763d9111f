/** The DiskCloud a process uses, from its configuration: the SDK adapter, or none without a region. */
import type { CloudError } from "../cloud-errors.ts";
import type { Config } from "../config.ts";
import type { DiskCloud } from "../disk-cloud.ts";
import { RateLimiter } from "../rate-limiter.ts";
import { EcsDiskCloud } from "./ecs-disk-cloud.ts";
import { createEcsClient } from "./ecs-sdk.ts";

/** `onError` is told of each ECS call that failed (the process's metrics count them by code). */
export function diskCloudFromConfig(config: Config, onError?: (error: CloudError) => void): DiskCloud | undefined {
  const { regionId } = config.ecs;
  if (regionId === undefined) return undefined;
  const client = createEcsClient({
    regionId,
    endpoint: config.ecs.endpoint,
    protocol: config.ecs.protocol,
    connectTimeoutMs: config.ecs.connectTimeoutMs,
    readTimeoutMs: config.ecs.readTimeoutMs,
    accessKey: config.ecs.accessKey,
  });
  return new EcsDiskCloud(client, regionId, new RateLimiter({ perSecond: config.ecs.requestsPerSecond }), onError);
}
