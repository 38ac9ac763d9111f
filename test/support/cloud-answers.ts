/**
 * What ECS answered, as data for unit tests of the admission rules. The handlers see the cloud
 * only through the DiskLookup port; the SDK adapter and the ECS emulator are tested against each
 * other separately.
 */
import type { DiskFacts, DiskLookup } from "../../core/disk-cloud.ts";

/** What ECS says about a disk: its zone and category, and attributes an ordinary disk has unless given. */
export type DiskAnswer = Pick<DiskFacts, "zoneId" | "category"> & Partial<Omit<DiskFacts, "diskId">>;

export function diskFacts(diskId: string, answer: DiskAnswer): DiskFacts {
  return { diskId, tags: {}, multiAttach: false, mountedInstances: 1, autoSnapshotPolicyId: undefined, ...answer };
}

export interface CloudAnswers {
  readonly disks?: Readonly<Record<string, DiskAnswer>>;
  /** Categories on sale per zone; a zone left out offers the whole ESSD family. */
  readonly zones?: Readonly<Record<string, readonly string[]>>;
}

export function cloudAnswering(answers: CloudAnswers = {}): DiskLookup & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    describeDisks(diskIds) {
      calls.push(`DescribeDisks ${diskIds.join(",")}`);
      const facts = diskIds.flatMap((diskId) => {
        const known = answers.disks?.[diskId];
        return known === undefined ? [] : [[diskId, diskFacts(diskId, known)] as const];
      });
      return Promise.resolve({ ok: true, value: new Map(facts) });
    },
    availableDiskCategories(zoneId) {
      calls.push(`DescribeAvailableResource ${zoneId}`);
      const offered = answers.zones?.[zoneId] ?? ["cloud_essd", "cloud_auto", "cloud_essd_entry", "cloud_ssd", "cloud_efficiency"];
      return Promise.resolve({ ok: true, value: new Set(offered) });
    },
  };
}
