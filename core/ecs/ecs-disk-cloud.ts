/**
 * DiskCloud on the real ECS SDK. Lists are read in batches of 100 ids and page by NextToken;
 * deletes of what is already gone succeed; every error leaves as a classified CloudError.
 */
import type {
  CreateDiskInput,
  CreateSnapshotInput,
  DiskAttributes,
  DiskCloud,
  DiskRecord,
  DiskStatus,
  SnapshotRecord,
  SnapshotStatus,
} from "../disk-cloud.ts";
import { NotFoundCloudError, type CloudError } from "../cloud-errors.ts";
import type { RateLimiter } from "../rate-limiter.ts";
import { classifyEcsError } from "./classify-ecs-error.ts";
import { EcsModels, type EcsClient } from "./ecs-sdk.ts";

/** ECS accepts at most 100 ids in DiskIds / SnapshotIds, and at most 100 results per page. */
const BATCH = 100;

type Tags = Readonly<Record<string, string>>;
type SdkDisk = NonNullable<NonNullable<InstanceType<typeof EcsModels.DescribeDisksResponseBody>["disks"]>["disk"]>[number];
type SdkSnapshot = NonNullable<NonNullable<InstanceType<typeof EcsModels.DescribeSnapshotsResponseBody>["snapshots"]>["snapshot"]>[number];
type SdkTag = { tagKey?: string; tagValue?: string };

export class EcsDiskCloud implements DiskCloud {
  readonly #client: EcsClient;
  readonly #regionId: string;
  readonly #limiter: RateLimiter | undefined;
  readonly #onError: ((error: CloudError) => void) | undefined;

  /**
   * `limiter` spaces every call out to stay within ECS's flow control; `onError` is told of each
   * failed call (the metrics count them by code), not of a resource found gone, which is a fact.
   */
  constructor(client: EcsClient, regionId: string, limiter?: RateLimiter, onError?: (error: CloudError) => void) {
    this.#client = client;
    this.#regionId = regionId;
    this.#limiter = limiter;
    this.#onError = onError;
  }

  async describeDisks(diskIds: readonly string[], signal?: AbortSignal): Promise<readonly DiskRecord[]> {
    const disks: DiskRecord[] = [];
    for (const batch of batches(diskIds)) {
      signal?.throwIfAborted();
      disks.push(...(await this.#listDisks({ diskIds: JSON.stringify(batch) })));
    }
    return disks;
  }

  findDisksByTags(tags: Tags): Promise<readonly DiskRecord[]> {
    return this.#listDisks({ tag: Object.entries(tags).map(([key, value]) => new EcsModels.DescribeDisksRequestTag({ key, value })) });
  }

  async createDisk(input: CreateDiskInput): Promise<string> {
    const request = new EcsModels.CreateDiskRequest({
      regionId: this.#regionId,
      zoneId: input.zoneId,
      diskCategory: input.category,
      size: input.sizeGiB,
      clientToken: input.clientToken,
      tag: Object.entries(input.tags).map(([key, value]) => new EcsModels.CreateDiskRequestTag({ key, value })),
      ...(input.performanceLevel === undefined ? {} : { performanceLevel: input.performanceLevel }),
      ...(input.snapshotId === undefined ? {} : { snapshotId: input.snapshotId }),
      ...(input.name === undefined ? {} : { diskName: input.name }),
      ...attributeParams(input.attributes ?? {}),
    });
    const response = await this.#call("CreateDisk", () => this.#client.createDisk(request));
    return response.body?.diskId ?? "";
  }

  async deleteDisk(diskId: string): Promise<void> {
    await this.#ignoringNotFound(() => this.#call("DeleteDisk", () => this.#client.deleteDisk(new EcsModels.DeleteDiskRequest({ diskId }))));
  }

  async createSnapshot(input: CreateSnapshotInput): Promise<string> {
    const request = new EcsModels.CreateSnapshotRequest({
      diskId: input.diskId,
      clientToken: input.clientToken,
      tag: Object.entries(input.tags).map(([key, value]) => new EcsModels.CreateSnapshotRequestTag({ key, value })),
      ...(input.retentionDays === undefined ? {} : { retentionDays: input.retentionDays }),
      ...(input.name === undefined ? {} : { snapshotName: input.name }),
      ...(input.description === undefined ? {} : { description: input.description }),
    });
    const response = await this.#call("CreateSnapshot", () => this.#client.createSnapshot(request));
    return response.body?.snapshotId ?? "";
  }

  async describeSnapshots(snapshotIds: readonly string[]): Promise<readonly SnapshotRecord[]> {
    const snapshots: SnapshotRecord[] = [];
    for (const batch of batches(snapshotIds)) snapshots.push(...(await this.#listSnapshots({ snapshotIds: JSON.stringify(batch) })));
    return snapshots;
  }

  findSnapshotsByTags(tags: Tags): Promise<readonly SnapshotRecord[]> {
    return this.#listSnapshots({ tag: Object.entries(tags).map(([key, value]) => new EcsModels.DescribeSnapshotsRequestTag({ key, value })) });
  }

  async findSnapshotsByName(name: string): Promise<readonly SnapshotRecord[]> {
    // ECS ignores an empty SnapshotName: it would list every snapshot of the region.
    if (name === "") return [];
    const found = await this.#listSnapshots({ snapshotName: name });
    // The filter is ECS's; only an exact match names an export's snapshot, whatever ECS matches on.
    return found.filter((snapshot) => snapshot.name === name);
  }

  async deleteSnapshot(snapshotId: string, options: { readonly force?: boolean } = {}): Promise<void> {
    const request = new EcsModels.DeleteSnapshotRequest({ snapshotId, ...(options.force === true ? { force: true } : {}) });
    await this.#ignoringNotFound(() => this.#call("DeleteSnapshot", () => this.#client.deleteSnapshot(request)));
  }

  async availableDiskCategories(zoneId: string, signal?: AbortSignal): Promise<ReadonlySet<string>> {
    signal?.throwIfAborted();
    const request = new EcsModels.DescribeAvailableResourceRequest({ regionId: this.#regionId, zoneId, destinationResource: "DataDisk", resourceType: "disk" });
    const response = await this.#call("DescribeAvailableResource", () => this.#client.describeAvailableResource(request));
    const zones = response.body?.availableZones?.availableZone ?? [];
    const offered = zones
      .filter((zone) => zone.zoneId === zoneId)
      .flatMap((zone) => zone.availableResources?.availableResource ?? [])
      .filter((resource) => resource.type === "DataDisk")
      .flatMap((resource) => resource.supportedResources?.supportedResource ?? [])
      .filter((supported) => supported.status === "Available" && supported.value !== undefined);
    return new Set(offered.map((supported) => supported.value!));
  }

  async #listDisks(filter: Partial<InstanceType<typeof EcsModels.DescribeDisksRequest>>): Promise<DiskRecord[]> {
    const disks: DiskRecord[] = [];
    let nextToken: string | undefined;
    do {
      const request = new EcsModels.DescribeDisksRequest({ regionId: this.#regionId, maxResults: BATCH, ...filter, ...(nextToken === undefined ? {} : { nextToken }) });
      const response = await this.#call("DescribeDisks", () => this.#client.describeDisks(request));
      disks.push(...(response.body?.disks?.disk ?? []).map(toDisk));
      nextToken = response.body?.nextToken === "" ? undefined : response.body?.nextToken;
    } while (nextToken !== undefined);
    return disks;
  }

  async #listSnapshots(filter: Partial<InstanceType<typeof EcsModels.DescribeSnapshotsRequest>>): Promise<SnapshotRecord[]> {
    const snapshots: SnapshotRecord[] = [];
    let nextToken: string | undefined;
    do {
      const request = new EcsModels.DescribeSnapshotsRequest({ regionId: this.#regionId, maxResults: BATCH, ...filter, ...(nextToken === undefined ? {} : { nextToken }) });
      const response = await this.#call("DescribeSnapshots", () => this.#client.describeSnapshots(request));
      snapshots.push(...(response.body?.snapshots?.snapshot ?? []).map(toSnapshot));
      nextToken = response.body?.nextToken === "" ? undefined : response.body?.nextToken;
    } while (nextToken !== undefined);
    return snapshots;
  }

  async #call<T>(action: string, send: () => Promise<T>): Promise<T> {
    await this.#limiter?.acquire();
    try {
      return await send();
    } catch (error) {
      const classified = classifyEcsError(action, error);
      if (!(classified instanceof NotFoundCloudError)) this.#onError?.(classified);
      throw classified;
    }
  }

  /** A delete's goal is absence: "not found" means it is reached. */
  async #ignoringNotFound(remove: () => Promise<unknown>): Promise<void> {
    try {
      await remove();
    } catch (error) {
      if (!(error instanceof NotFoundCloudError)) throw error;
    }
  }
}

function* batches(ids: readonly string[]): Generator<string[]> {
  const unique = [...new Set(ids)];
  for (let start = 0; start < unique.length; start += BATCH) yield unique.slice(start, start + BATCH);
}

function tagsOf(tags: readonly SdkTag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter((tag) => tag.tagKey !== undefined).map((tag) => [tag.tagKey!, tag.tagValue ?? ""]));
}

const orUndefined = (value: string | undefined): string | undefined => (value === undefined || value === "" ? undefined : value);

/** CreateDisk's parameters for the attributes given; those left out keep ECS's defaults. */
function attributeParams(attributes: Partial<DiskAttributes>): Partial<InstanceType<typeof EcsModels.CreateDiskRequest>> {
  const { encrypted, kmsKeyId, provisionedIops, burstingEnabled, multiAttach, resourceGroupId } = attributes;
  return {
    ...(encrypted === undefined ? {} : { encrypted }),
    ...(kmsKeyId === undefined ? {} : { KMSKeyId: kmsKeyId }),
    ...(provisionedIops === undefined ? {} : { provisionedIops }),
    ...(burstingEnabled === undefined ? {} : { burstingEnabled }),
    ...(multiAttach === undefined ? {} : { multiAttach: multiAttach ? "Enabled" : "Disabled" }),
    ...(resourceGroupId === undefined ? {} : { resourceGroupId }),
  };
}

function toDisk(disk: SdkDisk): DiskRecord {
  return {
    diskId: disk.diskId ?? "",
    zoneId: disk.zoneId ?? "",
    category: disk.category ?? "",
    status: (disk.status ?? "Creating") as DiskStatus,
    sizeGiB: disk.size ?? 0,
    performanceLevel: orUndefined(disk.performanceLevel),
    tags: tagsOf(disk.tags?.tag),
    sourceSnapshotId: orUndefined(disk.sourceSnapshotId),
    instanceId: orUndefined(disk.instanceId),
    attachedAt: epochMs(disk.attachedTime),
    multiAttach: disk.multiAttach === "Enabled",
    mountedInstances: disk.mountInstanceNum ?? (orUndefined(disk.instanceId) === undefined ? 0 : 1),
    autoSnapshotPolicyId: orUndefined(disk.autoSnapshotPolicyId),
    encrypted: disk.encrypted === true,
    kmsKeyId: disk.encrypted === true ? orUndefined(disk.KMSKeyId) : undefined,
    // ECS sends ProvisionedIops only for AutoPL disks; 0 there means none provisioned.
    provisionedIops: disk.category === "cloud_auto" ? (disk.provisionedIops ?? 0) : undefined,
    burstingEnabled: disk.burstingEnabled === true,
    resourceGroupId: orUndefined(disk.resourceGroupId),
  };
}

function toSnapshot(snapshot: SdkSnapshot): SnapshotRecord {
  return {
    snapshotId: snapshot.snapshotId ?? "",
    sourceDiskId: snapshot.sourceDiskId ?? "",
    sourceDiskSizeGiB: Number(snapshot.sourceDiskSize ?? 0),
    status: (snapshot.status ?? "progressing") as SnapshotStatus,
    available: snapshot.available === true,
    progressPercent: Number.parseInt(snapshot.progress ?? "0", 10) || 0,
    retentionDays: snapshot.retentionDays === undefined || snapshot.retentionDays === 0 ? undefined : snapshot.retentionDays,
    tags: tagsOf(snapshot.tags?.tag),
    createdAt: epochMs(snapshot.creationTime),
    ...snapshotExtras(snapshot),
  };
}

/** The optional parts of a SnapshotRecord, left out where ECS sends nothing (or ""). */
function snapshotExtras(snapshot: SdkSnapshot): Pick<SnapshotRecord, "name" | "encrypted" | "kmsKeyId"> {
  const name = orUndefined(snapshot.snapshotName);
  const kmsKeyId = snapshot.encrypted === true ? orUndefined(snapshot.KMSKeyId) : undefined;
  return {
    ...(name === undefined ? {} : { name }),
    ...(snapshot.encrypted === undefined ? {} : { encrypted: snapshot.encrypted }),
    ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
  };
}

/** ECS's times (ISO 8601, UTC, to the second or minute); empty or unparsable: unknown. */
function epochMs(time: string | undefined): number | undefined {
  const parsed = time === undefined || time === "" ? Number.NaN : Date.parse(time);
  return Number.isNaN(parsed) ? undefined : parsed;
}
