/**
 * The checks of an export request (docs/cross-account.md): every claim of the current replicas is
 * Bound to an Alibaba Cloud ESSD-family disk (its snapshot is what is shared), no snapshot name
 * would pass ECS's limit. Pure over its inputs, like the move's checks: the webhook runs it on its
 * informer view, the runner's export precheck on the live cluster and a fresh ECS answer. Whether
 * a disk's snapshots can be shared at all (core/shareable.ts) needs its encryption, which only the
 * runner's fresh ECS answer carries: its precheck refuses those, before anything changes.
 */
import { listWithin } from "./bounded-text.ts";
import type { ClusterView } from "./cluster-view.ts";
import { MAX_SNAPSHOT_NAME_LENGTH, exportSnapshotName } from "./cross-account-request.ts";
import type { DiskLookup } from "./disk-cloud.ts";
import { ESSD_FAMILY, resolveClaims, type DiskVolume } from "./disk-volumes.ts";
import { sizeDenial } from "./size-limits.ts";
import type { Workload } from "./workload/kinds.ts";

export interface ExportAssessment {
  readonly denials: readonly string[];
  readonly warnings: readonly string[];
  /** The disks of the current replicas' claims, category completed from ECS where the PV does not prove it. */
  readonly disks: readonly DiskVolume[];
}

export interface ExportInputs {
  /** The export's id (its migration id): it names the snapshots. */
  readonly exportId: string;
  readonly view: ClusterView;
  readonly cloud: DiskLookup;
  /** MAX_REPLICAS, as for a move (core/size-limits.ts). */
  readonly maxReplicas: number;
}

export async function assessExport(sts: Workload, { exportId, view, cloud, maxReplicas }: ExportInputs): Promise<ExportAssessment> {
  const tooLarge = sizeDenial(sts, maxReplicas);
  if (tooLarge !== undefined) return { denials: [tooLarge], warnings: [], disks: [] };
  const namespace = sts.metadata?.namespace ?? "";
  const claims = resolveClaims(sts, view);
  const denials: string[] = [];
  const warnings: string[] = [];
  if (claims.length === 0) denials.push("it has no claims of volumeClaimTemplates in its current replicas, so there is nothing to export");
  const unbound = claims.filter((claim) => claim.kind === "unbound");
  if (unbound.length > 0) denials.push(`${listWithin(unbound.map((claim) => `PVC ${claim.claim} ${claim.reason}`))}; every PVC of the current replicas must be Bound to its disk before it can be exported`);
  const others = claims.filter((claim) => claim.kind === "other");
  if (others.length > 0) denials.push(`${listWithin(others.map((claim) => `PVC ${claim.claim} is on ${claim.source}`))}; only Alibaba Cloud disks (CSI driver diskplugin.csi.alibabacloud.com) can be exported, as ECS snapshots`);
  const longNames = claims.filter((claim) => exportSnapshotName(namespace, claim.claim, exportId).length > MAX_SNAPSHOT_NAME_LENGTH);
  if (longNames.length > 0) denials.push(`${listWithin(longNames.map((claim) => `PVC ${claim.claim}`))} would give snapshot names longer than ECS's ${MAX_SNAPSHOT_NAME_LENGTH} characters (zf-<namespace>-<claim>-<export id>); shorten the namespace or the claim template's name`);
  const found = claims.filter((claim): claim is DiskVolume => claim.kind === "disk");
  const facts = await cloud.describeDisks(found.map((disk) => disk.diskId));
  if (!facts.ok) warnings.push(`ECS could not be asked about the disks (${facts.reason}); the runner checks their category and encryption before it snapshots anything`);
  const disks = found.map((disk) => ({ ...disk, category: disk.category ?? (facts.ok ? facts.value.get(disk.diskId)?.category : undefined) }));
  const wrong = disks.filter((disk) => disk.category !== undefined && !ESSD_FAMILY.has(disk.category));
  if (wrong.length > 0) denials.push(`${listWithin(wrong.map((disk) => `PVC ${disk.claim} is on ${disk.category ?? "?"} disk ${disk.diskId}`))}; only ESSD-family disks (${[...ESSD_FAMILY].join(", ")}) can be exported, because zoneferry relies on their instant-access snapshots`);
  return { denials, warnings, disks };
}
