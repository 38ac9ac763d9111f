/**
 * The narrow port between zoneferry and the cloud's disks (Alibaba Cloud ECS). Steps and checks
 * depend on this interface only, never on the SDK; the SDK adapter and the ECS emulator pass one
 * conformance suite. Every method throws only `CloudError`s (see cloud-errors.ts).
 */

/** What ECS says about one disk; the part admission needs to judge whether a new disk can carry it. */
export interface DiskFacts {
  readonly diskId: string;
  readonly zoneId: string;
  readonly category: string;
  /** The disk's own tags (ACK's CSI tags, cost allocation, users'): copied to the new disk. */
  readonly tags: Readonly<Record<string, string>>;
  /** Multi-attach ("Enabled"): the disk may be shared by several instances. */
  readonly multiAttach: boolean;
  /** Instances it is attached to now (MountInstanceNum): more than one only for a multi-attach disk. */
  readonly mountedInstances: number;
  /** Applied automatic snapshot policy; CreateDisk cannot set one, so a new disk starts without it. */
  readonly autoSnapshotPolicyId: string | undefined;
}

/** What a new disk is created with besides its shape and tags, so it is the source's equal. */
export interface DiskAttributes {
  readonly encrypted: boolean;
  /**
   * The KMS key of an encrypted disk as ECS reports it: a customer key, or the region's ECS service
   * key when the disk was encrypted without naming one (ECS reports that key's id too, so the two
   * look alike here: core/shareable.ts tells them apart); undefined when not encrypted.
   */
  readonly kmsKeyId: string | undefined;
  /** cloud_auto only: IOPS provisioned above the baseline; undefined for other categories. */
  readonly provisionedIops: number | undefined;
  /** cloud_auto only: performance burst. */
  readonly burstingEnabled: boolean;
  readonly multiAttach: boolean;
  /** undefined: the account's default resource group. */
  readonly resourceGroupId: string | undefined;
}

export type DiskStatus = "Creating" | "Available" | "In_use" | "Attaching" | "Detaching" | "ReIniting";

export interface DiskRecord extends DiskFacts, DiskAttributes {
  readonly status: DiskStatus;
  readonly sizeGiB: number;
  /** PL0..PL3 for ESSD, undefined for categories without levels. */
  readonly performanceLevel: string | undefined;
  readonly sourceSnapshotId: string | undefined;
  readonly instanceId: string | undefined;
  /** Epoch ms of its last attach (ECS AttachedTime), undefined if never attached. */
  readonly attachedAt: number | undefined;
}

export type SnapshotStatus = "progressing" | "accomplished" | "failed";

export interface SnapshotRecord {
  readonly snapshotId: string;
  readonly sourceDiskId: string;
  readonly sourceDiskSizeGiB: number;
  readonly status: SnapshotStatus;
  /** Usable to create disks: at once for the ESSD family (instant access), else when accomplished. */
  readonly available: boolean;
  readonly progressPercent: number;
  /** Undefined: kept until deleted by hand. */
  readonly retentionDays: number | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms of its creation (ECS CreationTime): what its source disk held then is in it. */
  readonly createdAt: number | undefined;
  /**
   * SnapshotName; absent when it has none. An export names each snapshot after its claim, and a
   * snapshot shared with another account keeps its name there (under an id of its own), so the
   * name is how a restore finds it.
   */
  readonly name?: string;
  /** A snapshot is encrypted with its source disk's key; absent when ECS does not say. */
  readonly encrypted?: boolean;
  /** The key of an encrypted snapshot (customer or service key, as for DiskAttributes); absent otherwise. */
  readonly kmsKeyId?: string;
  /*
   * Whether another account owns it (shares it with this one) is not here: DescribeSnapshots has no
   * owner field, on ECS or in the emulator. SnapshotSharing.sharedWithMe lists the owners' ids.
   */
}

export interface CreateSnapshotInput {
  readonly diskId: string;
  readonly name?: string;
  readonly description?: string;
  /** 1..65536 days; undefined keeps the snapshot until deleted by hand. */
  readonly retentionDays?: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Deterministic idempotency token (≤ 64 ASCII): the same call twice makes one snapshot. */
  readonly clientToken: string;
}

export interface CreateDiskInput {
  readonly zoneId: string;
  readonly category: string;
  readonly performanceLevel?: string;
  readonly sizeGiB: number;
  readonly snapshotId?: string;
  readonly name?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly clientToken: string;
  /** Left out: ECS's defaults (not encrypted, unless the snapshot is; no provisioned IOPS; single attach; default group). */
  readonly attributes?: Partial<DiskAttributes>;
}

export interface DiskCloud {
  /** The disks among `diskIds` that exist (any number of ids; unknown ones are left out). */
  describeDisks(diskIds: readonly string[], signal?: AbortSignal): Promise<readonly DiskRecord[]>;
  /** Disks carrying every one of `tags`. */
  findDisksByTags(tags: Readonly<Record<string, string>>): Promise<readonly DiskRecord[]>;
  createDisk(input: CreateDiskInput): Promise<string>;
  /** Deleting a disk that does not exist succeeds (the end state is the same). */
  deleteDisk(diskId: string): Promise<void>;
  createSnapshot(input: CreateSnapshotInput): Promise<string>;
  describeSnapshots(snapshotIds: readonly string[]): Promise<readonly SnapshotRecord[]>;
  findSnapshotsByTags(tags: Readonly<Record<string, string>>): Promise<readonly SnapshotRecord[]>;
  /**
   * Snapshots named exactly `name` (every page), this account's and those other accounts share with
   * it: how a restore finds an export's snapshot. An empty name finds none.
   */
  findSnapshotsByName(name: string): Promise<readonly SnapshotRecord[]>;
  /** `force` also deletes a snapshot disks were created from. Deleting one that does not exist succeeds. */
  deleteSnapshot(snapshotId: string, options?: { readonly force?: boolean }): Promise<void>;
  /** Data-disk categories the zone sells now (DescribeAvailableResource), sold-out ones excluded. */
  availableDiskCategories(zoneId: string, signal?: AbortSignal): Promise<ReadonlySet<string>>;
}

/** An answer from the cloud, or why there is none (unreachable, too slow, not configured). */
export type Lookup<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** The cloud as admission sees it: answers are cached and bounded in time, failures are values. */
export interface DiskLookup {
  describeDisks(diskIds: readonly string[]): Promise<Lookup<ReadonlyMap<string, DiskFacts>>>;
  availableDiskCategories(zoneId: string): Promise<Lookup<ReadonlySet<string>>>;
}

/** The lookup used while no ECS endpoint is configured: every check reports ECS as unreachable. */
export const NO_CLOUD: DiskLookup = {
  describeDisks: () => Promise.resolve({ ok: false, reason: "no ECS endpoint is configured" }),
  availableDiskCategories: () => Promise.resolve({ ok: false, reason: "no ECS endpoint is configured" }),
};
