/**
 * The checks of a new migration request against the cluster and the cloud (contract §4, deny and
 * warn rules), and the placement plan. Pure over its inputs: the webhook runs it on its informer
 * view, the runner's precheck on a fresh view of the live cluster.
 */
import type { V1StatefulSet } from "@kubernetes/client-node";
import { MAX_DISK_TAGS, OWN_TAG_COUNT, excessTags } from "./carried-attributes.ts";
import type { ClusterView } from "./cluster-view.ts";
import type { DiskFacts, DiskLookup } from "./disk-cloud.ts";
import { ESSD_FAMILY, resolveClaims, type DiskVolume, type OtherVolume, type UnboundClaim } from "./disk-volumes.ts";
import type { MigrationRequest } from "./migration-request.ts";
import { zoneCapacity, type ZoneCapacity } from "./node-fit.ts";
import { planPlacement, type PlacementPlan } from "./planner.ts";

export interface Assessment {
  /** Reasons to deny, each a clause a user can act on; empty when the request may proceed. */
  readonly denials: readonly string[];
  readonly warnings: readonly string[];
  readonly plan: PlacementPlan;
  /** Disk volumes of the current replicas, with zone and category completed from ECS. */
  readonly disks: readonly DiskVolume[];
}

/** Regional ESSD: replicated across the region's zones, so there is no zone to move it out of. */
export const REGIONAL_CATEGORY = "cloud_regional_disk_auto";

/** Zone used in the plan for a disk whose zone neither the PV nor ECS could tell. */
export const UNKNOWN_ZONE = "unknown-zone";

export async function assessMigration(
  sts: V1StatefulSet,
  request: MigrationRequest,
  view: ClusterView,
  cloud: DiskLookup,
): Promise<Assessment> {
  const claims = resolveClaims(sts, view);
  const unbound = claims.filter((claim): claim is UnboundClaim => claim.kind === "unbound");
  const others = claims.filter((claim): claim is OtherVolume => claim.kind === "other");
  const denials: string[] = [];
  const warnings: string[] = [];

  const completed = await completeFromCloud(
    claims.filter((claim): claim is DiskVolume => claim.kind === "disk"),
    cloud,
  );
  warnings.push(...completed.warnings);
  const disks = completed.disks;
  const plan = planPlacement(ordinalsOf(disks), request.targetZones);

  if (unbound.length > 0) denials.push(unboundDenial(unbound));
  const regional = disks.filter((disk) => disk.category === REGIONAL_CATEGORY);
  if (regional.length > 0) denials.push(regionalDenial(regional));
  const wrongCategory = disks.filter((disk) => disk.category !== undefined && disk.category !== REGIONAL_CATEGORY && !ESSD_FAMILY.has(disk.category));
  if (wrongCategory.length > 0) denials.push(categoryDenial(wrongCategory));
  const movingClaims = new Set(plan.moves.map((move) => move.claim));
  const carried = carryChecks(disks.filter((disk) => movingClaims.has(disk.claim)), completed.facts);
  denials.push(...carried.denials);
  warnings.push(...carried.warnings);
  denials.push(...zoneDenials(request, view, sts));
  const offered = await offerChecks(plan, disks, cloud);
  denials.push(...offered.denials);
  warnings.push(...offered.warnings);

  warnings.push(...planWarnings(plan, disks, others, sts));
  return { denials, warnings, plan, disks };
}

/**
 * Every disk is described in ECS: the PV may tell zone and category, but only ECS knows the
 * attributes the new disk must carry (tags, multi-attach, ...). The PV's zone and category win
 * where it has them.
 */
async function completeFromCloud(
  disks: readonly DiskVolume[],
  cloud: DiskLookup,
): Promise<{ disks: DiskVolume[]; facts: ReadonlyMap<string, DiskFacts>; warnings: string[] }> {
  if (disks.length === 0) return { disks: [], facts: new Map(), warnings: [] };
  const unknown = disks.filter((disk) => disk.category === undefined || disk.zone === undefined);
  const answer = await cloud.describeDisks(disks.map((disk) => disk.diskId));
  if (!answer.ok) {
    const gaps = unknown.length === 0 ? "" : `category or zone of ${unknown.map((disk) => disk.claim).join(", ")} unchecked, `;
    return {
      disks: [...disks],
      facts: new Map(),
      warnings: [`ECS unreachable (${answer.reason}): ${gaps}whether the new disks can carry each disk's attributes unchecked; the runner prechecks again`],
    };
  }
  const facts: ReadonlyMap<string, DiskFacts> = answer.value;
  const missing = unknown.filter((disk) => !facts.has(disk.diskId)).map((disk) => `${disk.claim} (${disk.diskId})`);
  const warnings = missing.length > 0 ? [`ECS does not know the disks of ${missing.join(", ")}; the runner prechecks again`] : [];
  return {
    disks: disks.map((disk) => {
      const fact = facts.get(disk.diskId);
      return fact === undefined ? disk : { ...disk, zone: disk.zone ?? fact.zoneId, category: disk.category ?? fact.category };
    }),
    facts,
    warnings,
  };
}

/**
 * What a new disk could not carry: a multi-attach disk other instances use too (zoneferry stops
 * only this StatefulSet's pods, and the new disk would leave the others behind), and more tags
 * than ECS puts on one disk once zoneferry's own are added. An automatic snapshot policy is not
 * carried (CreateDisk cannot apply one): a warning, the data is safe either way.
 */
function carryChecks(disks: readonly DiskVolume[], facts: ReadonlyMap<string, DiskFacts>): { denials: string[]; warnings: string[] } {
  const denials: string[] = [];
  const warnings: string[] = [];
  for (const disk of disks) {
    const fact = facts.get(disk.diskId);
    if (fact === undefined) continue;
    const named = `disk ${disk.diskId} of PVC ${disk.claim}`;
    if (fact.multiAttach && fact.mountedInstances > 1) {
      denials.push(`${named} is multi-attach and attached to ${fact.mountedInstances} instances; a move would take it away from the instances that are not this StatefulSet's, so detach it from them first`);
    }
    const excess = excessTags(fact.tags);
    if (excess > 0) {
      denials.push(`${named} has more tags than its new disk can take (ECS allows ${MAX_DISK_TAGS} per disk, zoneferry adds ${OWN_TAG_COUNT}); remove ${excess} of its tags and apply again`);
    }
    if (fact.autoSnapshotPolicyId !== undefined) {
      warnings.push(`${named} has automatic snapshot policy ${fact.autoSnapshotPolicyId}, which ECS cannot set on a new disk: apply it to the new disk after the move`);
    }
  }
  return { denials, warnings };
}

function ordinalsOf(disks: readonly DiskVolume[]): { ordinal: number; volumes: { claim: string; zone: string }[] }[] {
  const byOrdinal = new Map<number, { claim: string; zone: string }[]>();
  for (const disk of disks) {
    const volumes = byOrdinal.get(disk.ordinal) ?? [];
    volumes.push({ claim: disk.claim, zone: disk.zone ?? UNKNOWN_ZONE });
    byOrdinal.set(disk.ordinal, volumes);
  }
  return [...byOrdinal].map(([ordinal, volumes]) => ({ ordinal, volumes }));
}

function unboundDenial(unbound: readonly UnboundClaim[]): string {
  const list = unbound.map((claim) => `PVC ${claim.claim} ${claim.reason}`).join(", ");
  return `${list}; every PVC of the current replicas must be Bound before its disk can move, so wait for the StatefulSet to be fully up and apply again`;
}

function regionalDenial(disks: readonly DiskVolume[]): string {
  const list = disks.map((disk) => `PVC ${disk.claim} is on regional ESSD disk ${disk.diskId} (${REGIONAL_CATEGORY})`).join(", ");
  return `${list}; a regional ESSD serves every zone of its region, so there is nothing to move: schedule the pods into the target zones instead (node affinity or a nodeSelector on topology.kubernetes.io/zone)`;
}

function categoryDenial(disks: readonly DiskVolume[]): string {
  const list = disks.map((disk) => `PVC ${disk.claim} is on ${disk.category ?? "?"} disk ${disk.diskId}`).join(", ");
  return `${list}; only ESSD-family disks (${[...ESSD_FAMILY].join(", ")}) can be moved, because zoneferry relies on their instant-access snapshots`;
}

function zoneDenials(request: MigrationRequest, view: ClusterView, sts: V1StatefulSet): string[] {
  const pod = sts.spec?.template.spec;
  return request.targetZones
    .map((zone) => zoneCapacity(zone, view.listNodes(), pod))
    .filter((capacity) => !capacity.usable)
    .map(describeEmptyZone);
}

function describeEmptyZone(capacity: ZoneCapacity): string {
  if (capacity.nodesSeen === 0) {
    return `target zone ${capacity.zone} has no Ready, schedulable node (0 nodes seen in that zone); add nodes there or choose another zone`;
  }
  const reasons = [...capacity.misfits].map(([reason, count]) => `${count} ${reason}`).join(", ");
  const noun = capacity.nodesSeen === 1 ? "node" : "nodes";
  return `target zone ${capacity.zone} has no Ready, schedulable node for these pods (${capacity.nodesSeen} ${noun} seen in that zone: ${reasons}); make a node there available or choose another zone`;
}

async function offerChecks(
  plan: PlacementPlan,
  disks: readonly DiskVolume[],
  cloud: DiskLookup,
): Promise<{ denials: string[]; warnings: string[] }> {
  const categoryOf = new Map(disks.map((disk) => [disk.claim, disk.category]));
  const needed = new Map<string, Set<string>>();
  for (const move of plan.moves) {
    const category = categoryOf.get(move.claim);
    if (category === undefined || !ESSD_FAMILY.has(category)) continue;
    needed.set(move.toZone, (needed.get(move.toZone) ?? new Set()).add(category));
  }
  const denials: string[] = [];
  const warnings: string[] = [];
  const answers = await Promise.all([...needed.keys()].map((zone) => cloud.availableDiskCategories(zone)));
  [...needed].forEach(([zone, categories], position) => {
    const answer = answers[position]!;
    if (!answer.ok) {
      warnings.push(`ECS unreachable (${answer.reason}): could not check that ${zone} offers ${[...categories].join(", ")}; the runner prechecks again`);
      return;
    }
    const missing = [...categories].filter((category) => !answer.value.has(category));
    if (missing.length > 0) {
      denials.push(`ECS does not offer ${missing.join(", ")} disks in target zone ${zone} (DescribeAvailableResource); choose another zone`);
    }
  });
  return { denials, warnings };
}

function planWarnings(
  plan: PlacementPlan,
  disks: readonly DiskVolume[],
  others: readonly OtherVolume[],
  sts: V1StatefulSet,
): string[] {
  const warnings: string[] = [];
  if (plan.moves.length === 0) {
    warnings.push(
      disks.length === 0
        ? "nothing to move: the StatefulSet's replicas have no Alibaba Cloud disk volumes"
        : `nothing to move: all ${disks.length} disks already in target zones`,
    );
  }
  if (others.length > 0) {
    const list = others.map((other) => `${other.claim} (${other.source})`).join(", ");
    warnings.push(`volumes that are not Alibaba Cloud disks stay where they are: ${list}`);
  }
  if (sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === "Delete") {
    warnings.push("persistentVolumeClaimRetentionPolicy.whenScaled is Delete: the runner sets it to Retain for the migration and restores it afterwards");
  }
  return warnings;
}
