/** The precheck asks ECS directly: it runs off the admission path, so no cache, and time to wait. */
import type { DiskCloud, DiskLookup } from "../core/disk-cloud.ts";

export function directDiskLookup(cloud: DiskCloud): DiskLookup {
  return {
    describeDisks: async (diskIds) => ({ ok: true, value: new Map((await cloud.describeDisks(diskIds)).map((disk) => [disk.diskId, disk])) }),
    availableDiskCategories: async (zoneId) => ({ ok: true, value: await cloud.availableDiskCategories(zoneId) }),
  };
}
