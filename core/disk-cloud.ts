/**
 * The narrow port between zoneferry and the cloud's disks (Alibaba Cloud ECS). Steps and checks
 * depend on this interface only, never on the SDK; the SDK adapter and the ECS emulator pass one
 * conformance suite. Every method throws only `CloudError`s (see cloud-errors.ts).
 */

/** What ECS says about one disk; the part admission needs. */
export interface DiskFacts {
  readonly diskId: string;
  readonly zoneId: string;
  readonly category: string;
}

export type DiskStatus = "Creating" | "Available" | "In_use" | "Attaching" | "Detaching" | "ReIniting";

export interface DiskRecord extends DiskFacts {
  readonly status: DiskStatus;
  readonly sizeGiB: number;
  /** PL0..PL3 for ESSD, undefined for categories without levels. */
  readonly performanceLevel: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly sourceSnapshotId: string | undefined;
  readonly instanceId: string | undefined;
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
