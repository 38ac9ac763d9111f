/**
 * ECS for the plugin, only when asked (`--ecs`): then `plan` runs every check the webhook runs,
 * and `describe` shows each snapshot's progress. The same variables as the runner's configure it
 * (docs/reference/configuration.md): ECS_REGION_ID, ECS_ENDPOINT, ECS_PROTOCOL (http only with
 * ECS_INSECURE_EMULATOR=true, for the sandbox's emulator), and the keys
 * ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / ALIBABA_CLOUD_SECURITY_TOKEN, else Alibaba Cloud's
 * default credential chain (the CLI's profile, an instance role).
 */
import type { DiskCloud } from "../core/disk-cloud.ts";
import { EcsDiskCloud } from "../core/ecs/ecs-disk-cloud.ts";
import { createEcsClient } from "../core/ecs/ecs-sdk.ts";
import type { SnapshotProgress } from "./format.ts";

export class CloudSettingsError extends Error {}

export function cloudFromEnv(env: Readonly<Record<string, string | undefined>>): DiskCloud {
  const regionId = env["ECS_REGION_ID"] ?? env["ALIBABA_CLOUD_REGION_ID"];
  if (regionId === undefined || regionId === "") throw new CloudSettingsError("--ecs needs ECS_REGION_ID (the region of the cluster's disks, e.g. cn-shanghai)");
  const protocol = env["ECS_PROTOCOL"] ?? "https";
  if (protocol !== "https" && protocol !== "http") throw new CloudSettingsError(`ECS_PROTOCOL must be https or http, not ${protocol}`);
  if (protocol === "http" && env["ECS_INSECURE_EMULATOR"] !== "true") throw new CloudSettingsError("ECS_PROTOCOL=http is only for a local ECS emulator (ECS_INSECURE_EMULATOR=true): requests and their credentials would travel in clear");
  const id = env["ALIBABA_CLOUD_ACCESS_KEY_ID"];
  const secret = env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"];
  const token = env["ALIBABA_CLOUD_SECURITY_TOKEN"];
  const accessKey = id === undefined || secret === undefined ? undefined : { id, secret, ...(token === undefined ? {} : { securityToken: token }) };
  const endpoint = env["ECS_ENDPOINT"] === "" ? undefined : env["ECS_ENDPOINT"];
  return new EcsDiskCloud(createEcsClient({ regionId, endpoint, protocol, connectTimeoutMs: 5_000, readTimeoutMs: 10_000, accessKey }), regionId);
}

/** Each snapshot's status and progress as ECS reports them; a refusal says why instead. */
export async function snapshotProgress(cloud: DiskCloud, snapshotIds: readonly string[]): Promise<{ progress: SnapshotProgress } | { note: string }> {
  try {
    const records = await cloud.describeSnapshots(snapshotIds);
    return { progress: new Map(records.map((record) => [record.snapshotId, { status: record.status, percent: record.progressPercent }])) };
  } catch (error) {
    return { note: `(snapshot progress: ECS did not answer: ${error instanceof Error ? error.message : String(error)})` };
  }
}
