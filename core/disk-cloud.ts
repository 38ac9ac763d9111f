/**
 * The narrow port between zoneferry and the cloud's disks (Alibaba Cloud ECS). Steps and checks
 * depend on this interface only, never on the SDK. This is the part admission needs; the ECS
 * adapter and the runner's operations (snapshots, disk creation) extend it.
 */

/** What ECS says about one disk. */
export interface DiskFacts {
  readonly diskId: string;
  readonly zoneId: string;
  readonly category: string;
}

export interface DiskCloud {
  /** Facts of the disks that exist among `diskIds`; unknown ids are left out. */
  describeDisks(diskIds: readonly string[], signal?: AbortSignal): Promise<readonly DiskFacts[]>;
  /** Disk categories the zone offers for sale now (DescribeAvailableResource). */
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
