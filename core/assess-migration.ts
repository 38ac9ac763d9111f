/**
 * The checks of a new migration request against the cluster and the cloud (contract §4, deny and
 * warn rules), and the placement plan. Pure over its inputs: the webhook runs it on its informer
 * view, the runner's precheck on a fresh view of the live cluster.
 */
import type { V1LabelSelector, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { MAX_LISTED_ITEMS, listWithin } from "./bounded-text.ts";
import { MAX_DISK_TAGS, OWN_TAG_COUNT, excessTags } from "./carried-attributes.ts";
import type { ClusterView, DisruptionBudget } from "./cluster-view.ts";
import type { DiskFacts, DiskLookup } from "./disk-cloud.ts";
import { ESSD_FAMILY, resolveClaims, type DiskVolume, type OtherVolume, type UnboundClaim } from "./disk-volumes.ts";
import type { MigrationRequest, Strategy } from "./migration-request.ts";
import { requirementHolds, zoneCapacity, type ZoneCapacity } from "./node-fit.ts";
import { planPlacement, type PlacementPlan } from "./planner.ts";
import { DEFAULT_MAX_REPLICAS, sizeDenial } from "./size-limits.ts";
import type { Workload } from "./workload/kinds.ts";
import { workloadDenials } from "./workload/kruise-denials.ts";
import { isLiveOrdinal, ordinalSequence } from "./workload/ordinals.ts";

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

export type AssessMigration = (sts: V1StatefulSet, request: MigrationRequest, view: ClusterView, cloud: DiskLookup) => Promise<Assessment>;

export interface AssessmentLimits {
  /** MAX_REPLICAS: a larger StatefulSet is denied before anything per ordinal is built (core/size-limits.ts). */
  readonly maxReplicas: number;
}

/** The assessment within the installation's limits; the webhook and the runner's precheck pass theirs. */
export function migrationAssessor(limits: AssessmentLimits): AssessMigration {
  return async (sts, request, view, cloud) => {
    const tooLarge = sizeDenial(sts, limits.maxReplicas);
    if (tooLarge !== undefined) return { denials: [tooLarge], warnings: [], plan: planPlacement([], request.targetZones), disks: [] };
    return assessWithinLimits(sts, request, view, cloud);
  };
}

/** The assessment within the default limits (DEFAULT_MAX_REPLICAS). */
export const assessMigration: AssessMigration = migrationAssessor({ maxReplicas: DEFAULT_MAX_REPLICAS });

async function assessWithinLimits(
  sts: V1StatefulSet,
  request: MigrationRequest,
  view: ClusterView,
  cloud: DiskLookup,
): Promise<Assessment> {
  const claims = resolveClaims(sts, view);
  const unbound = claims.filter((claim): claim is UnboundClaim => claim.kind === "unbound");
  const others = claims.filter((claim): claim is OtherVolume => claim.kind === "other");
  const denials: string[] = [...replicaDenials(sts, view.listPods?.(sts.metadata?.namespace ?? ""), request.strategy)];
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
  denials.push(...workloadDenials(sts, view));
  const offered = await offerChecks(plan, disks, cloud);
  denials.push(...offered.denials);
  warnings.push(...offered.warnings);

  warnings.push(...planWarnings(plan, disks, others, sts));
  if (request.strategy === "Rolling" && plan.moves.length > 0) warnings.push(...rollingWarnings(sts, view));
  return { denials, warnings, plan, disks };
}

/**
 * What the replicas must be before the runner takes them down (contract §4): all Ready, the spec
 * seen by the StatefulSet controller, and no rollout under way or staged. `pods`: the namespace's
 * pods when the view has them (the runner's precheck), to name the replicas that are not Ready.
 * `strategy` only words the reasons: Recreate stops every replica at once, Rolling one at a time.
 */
export function replicaDenials(sts: V1StatefulSet, pods?: readonly V1Pod[], strategy: Strategy = "Recreate"): string[] {
  return [specNotObserved(sts), readinessDenial(sts, pods, strategy), rolloutDenial(sts, strategy)].filter((denial) => denial !== undefined);
}

/**
 * The spec changed and the StatefulSet controller has not acted on it yet. At admission that means
 * the very write that makes the request also changes the spec (the API server bumps the
 * generation before validating webhooks run; status stays as stored), so the move would run into
 * the rollout the change starts.
 */
export function specNotObserved(sts: V1StatefulSet): string | undefined {
  const generation = sts.metadata?.generation;
  const observed = sts.status?.observedGeneration;
  if (generation === undefined || observed === undefined || observed >= generation) return undefined;
  return `the StatefulSet's spec changes (generation ${generation}) and its controller has acted only on generation ${observed}; apply the spec change on its own first, and the request once every replica is Ready again`;
}

/**
 * Replicas that are not Ready: named with why when `pods` are given, else counted from the
 * StatefulSet's status. A replica that cannot start now (a degraded zone, a pull error) would not
 * start after the move either, and the move stops the ones that do run.
 */
export function readinessDenial(sts: V1StatefulSet, pods?: readonly V1Pod[], strategy: Strategy = "Recreate"): string | undefined {
  const why = strategy === "Rolling"
    ? "the move takes each replica down in turn only while all the others are Ready, and one that cannot start now will not start after it"
    : "the move stops them all and one that cannot start now will not start after it";
  const advice = `every replica must be Ready before a move, because ${why}: bring the replicas up (or scale the StatefulSet to those that run) and apply again`;
  if (pods !== undefined) {
    const unready = unreadyReplicas(sts, pods);
    return unready.length === 0 ? undefined : `replica(s) not Ready: ${unready.join(", ")}; ${advice}`;
  }
  // An object without status (never seen by the controller) is judged again by the runner's precheck.
  if (sts.status === undefined) return undefined;
  const replicas = sts.spec?.replicas ?? 1;
  const ready = sts.status.readyReplicas ?? 0;
  if (ready >= replicas) return undefined;
  return `only ${ready} of ${replicas} replicas are Ready (status.readyReplicas); ${advice}`;
}

/**
 * Each replica of `sts` (ordinal within spec.replicas) that is not Ready, with why: "db-1 (Pending:
 * Unschedulable: 0/3 nodes are available)". The first MAX_LISTED_ITEMS are named, the rest counted
 * in a last item ("… and 40 more"): the walk stops there, so it costs the pods given plus the names
 * listed, never the replicas asked for.
 */
export function unreadyReplicas(sts: Workload, pods: readonly V1Pod[]): string[] {
  const name = sts.metadata?.name ?? "";
  const uid = sts.metadata?.uid;
  const owned = new Map(pods
    .filter((pod) => uid === undefined || pod.metadata?.ownerReferences?.some((owner) => owner.uid === uid) === true)
    .map((pod) => [pod.metadata?.name ?? "", pod]));
  const unready: string[] = [];
  let walked = 0;
  let last = -1;
  for (const ordinal of ordinalSequence(sts.spec)) {
    if (unready.length >= MAX_LISTED_ITEMS) break;
    walked += 1;
    last = ordinal;
    const podName = `${name}-${ordinal}`;
    const pod = owned.get(podName);
    const why = pod === undefined ? "not created" : whyNotReady(pod);
    if (why !== undefined) unready.push(`${podName} (${why})`);
  }
  // The rest are counted from the pods given, never walked: a Ready pod past the last one named
  // whose ordinal the spec runs is one fewer to count.
  const readyBeyond = [...owned].filter(([podName, pod]) => {
    const suffix = podName.startsWith(`${name}-`) ? podName.slice(name.length + 1) : "";
    const ordinal = /^\d+$/.test(suffix) ? Number(suffix) : Number.NaN;
    return ordinal > last && isLiveOrdinal(sts.spec, ordinal) && whyNotReady(pod) === undefined;
  }).length;
  const more = Math.max(0, sts.spec?.replicas ?? 1) - walked - readyBeyond;
  if (more > 0) unready.push(`… and ${more} more`);
  return unready;
}

/** Longest scheduler or kubelet message quoted: enough to tell the cause, not a page of it. */
const MAX_REASON_LENGTH = 160;

function whyNotReady(pod: V1Pod): string | undefined {
  if (pod.metadata?.deletionTimestamp !== undefined) return "Terminating";
  const conditions = pod.status?.conditions ?? [];
  if (conditions.some((condition) => condition.type === "Ready" && condition.status === "True")) return undefined;
  const phase = pod.status?.phase ?? "Pending";
  const unscheduled = conditions.find((condition) => condition.type === "PodScheduled" && condition.status === "False");
  const waiting = (pod.status?.containerStatuses ?? []).map((container) => container.state?.waiting).find((state) => state?.reason !== undefined);
  const cause = unscheduled !== undefined
    ? `${unscheduled.reason ?? "not scheduled"}${unscheduled.message === undefined ? "" : `: ${unscheduled.message}`}`
    : waiting !== undefined ? `${waiting.reason ?? ""}${waiting.message === undefined ? "" : `: ${waiting.message}`}` : "not Ready";
  const short = cause.length <= MAX_REASON_LENGTH ? cause : `${cause.slice(0, MAX_REASON_LENGTH - 1)}…`;
  return `${phase}, ${short}`;
}

/**
 * A rollout under way or staged (either strategy). Scaling to zero completes it: with no replica left, the
 * StatefulSet controller makes the update revision current, and every pod comes back on it. A
 * canary (a partition) or an OnDelete rollout the user paces would become a full rollout.
 */
export function rolloutDenial(sts: V1StatefulSet, moveStrategy: Strategy = "Recreate"): string | undefined {
  const strategy = sts.spec?.updateStrategy?.type ?? "RollingUpdate";
  const partition = strategy === "RollingUpdate" ? (sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
  const revisions = outdatedRevisions(sts, strategy);
  const effect = moveStrategy === "Rolling"
    ? "the move takes each replica down in turn and its controller makes it again on the revision it picks, so an outdated pod comes back updated and a rollout the controller runs takes replicas down while the move does"
    : "the move scales the StatefulSet to zero, which ends any staged rollout: its controller brings every pod back on the newest revision of the template";
  if (partition > 0) {
    return `updateStrategy.rollingUpdate.partition is ${partition} (a staged rollout${revisions ?? ""}); ${effect}: promote or revert the canary, set the partition to 0 and apply again (set it back after the move)`;
  }
  // An Advanced StatefulSet's paused rollout is staged as a partition is: the user holds it.
  if (revisions !== undefined && (sts as Workload).spec?.updateStrategy?.rollingUpdate?.paused === true) {
    return `updateStrategy.rollingUpdate.paused is true (a paused rollout${revisions}); ${effect}: resume or revert the rollout, and apply again once every pod runs one revision`;
  }
  if (revisions === undefined) return undefined;
  const finish = strategy === "OnDelete" ? "delete the outdated pods (OnDelete) so they come back updated, or revert the template" : "let the rollout finish, or revert the template";
  return `a rollout is under way (updateStrategy ${strategy}${revisions}); ${effect}: ${finish}, then apply again`;
}

/** ": 1 of 3 pods run revision web-2, the others web-1" when pods are on an older revision, else undefined. */
function outdatedRevisions(sts: V1StatefulSet, strategy: string): string | undefined {
  const status = sts.status;
  if (status === undefined) return undefined;
  const { currentRevision: current, updateRevision: update, updatedReplicas: updated, replicas } = status;
  const differ = current !== undefined && update !== undefined && current !== update;
  const behind = strategy === "OnDelete" && updated !== undefined && updated < replicas;
  if (!differ && !behind) return undefined;
  return `: ${updated ?? 0} of ${replicas} pods run revision ${update ?? "?"}, the others ${current ?? "?"}`;
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
    const gaps = unknown.length === 0 ? "" : `category or zone of ${listWithin(unknown.map((disk) => disk.claim))} unchecked, `;
    return {
      disks: [...disks],
      facts: new Map(),
      warnings: [`ECS unreachable (${answer.reason}): ${gaps}whether the new disks can carry each disk's attributes unchecked; the runner prechecks again`],
    };
  }
  const facts: ReadonlyMap<string, DiskFacts> = answer.value;
  const missing = unknown.filter((disk) => !facts.has(disk.diskId)).map((disk) => `${disk.claim} (${disk.diskId})`);
  const warnings = missing.length > 0 ? [`ECS does not know the disks of ${listWithin(missing)}; the runner prechecks again`] : [];
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
  const list = listWithin(unbound.map((claim) => `PVC ${claim.claim} ${claim.reason}`));
  return `${list}; every PVC of the current replicas must be Bound before its disk can move, so wait for the StatefulSet to be fully up and apply again`;
}

function regionalDenial(disks: readonly DiskVolume[]): string {
  const list = listWithin(disks.map((disk) => `PVC ${disk.claim} is on regional ESSD disk ${disk.diskId} (${REGIONAL_CATEGORY})`));
  return `${list}; a regional ESSD serves every zone of its region, so there is nothing to move: schedule the pods into the target zones instead (node affinity or a nodeSelector on topology.kubernetes.io/zone)`;
}

function categoryDenial(disks: readonly DiskVolume[]): string {
  const list = listWithin(disks.map((disk) => `PVC ${disk.claim} is on ${disk.category ?? "?"} disk ${disk.diskId}`));
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
    const list = listWithin(others.map((other) => `${other.claim} (${other.source})`));
    warnings.push(`volumes that are not Alibaba Cloud disks stay where they are: ${list}`);
  }
  if (sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === "Delete") {
    warnings.push("persistentVolumeClaimRetentionPolicy.whenScaled is Delete: the runner sets it to Retain for the migration and restores it afterwards");
  }
  return warnings;
}

/**
 * What strategy Rolling cannot promise, where the view can tell (contract §6). Warnings, not
 * denials: the move is still carried out one replica at a time.
 *  - One replica: taking it down is an outage for the move, as Recreate's.
 *  - No PodDisruptionBudget selects the replicas: the runner's evictions honour budgets and it takes
 *    a replica down only while all the others are Ready, but nothing else stops a node drain or
 *    another eviction from taking a second replica meanwhile. Not said when the view has no budgets
 *    (the runner's) or has not listed them yet.
 * podManagementPolicy Parallel is not a reason for either: the runner checks every other replica
 * Ready before each eviction itself, and the StatefulSet controller only re-creates the one pod
 * taken down (docs/gitops.md).
 */
export function rollingWarnings(sts: V1StatefulSet, view: ClusterView): string[] {
  const replicas = sts.spec?.replicas ?? 1;
  const name = `${sts.metadata?.namespace ?? ""}/${sts.metadata?.name ?? ""}`;
  if (replicas === 1) {
    return ["strategy Rolling with 1 replica: the move takes that replica down while its disks move, so the application is down for the move as with Recreate; add replicas first to keep serving"];
  }
  const budgets = view.listDisruptionBudgets?.(sts.metadata?.namespace ?? "");
  if (budgets === undefined || replicas < 1) return [];
  const labels = sts.spec?.template.metadata?.labels ?? {};
  if (budgets.some((budget) => budgetSelects(budget, labels))) return [];
  return [`strategy Rolling: no PodDisruptionBudget selects the replicas of StatefulSet ${name}; the move still takes one replica down at a time, but nothing else stops a voluntary disruption (a node drain, another eviction) from taking a second one meanwhile: add a PodDisruptionBudget with maxUnavailable: 1 that selects them`];
}

/**
 * Whether `budget` selects pods carrying `labels` (the pod template's, which every replica
 * carries). policy/v1: an empty selector selects every pod of the namespace, an absent one none.
 */
export function budgetSelects(budget: DisruptionBudget, labels: Readonly<Record<string, string>>): boolean {
  const selector: V1LabelSelector | undefined = budget.spec?.selector;
  if (selector === undefined) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return byLabel && (selector.matchExpressions ?? []).every((requirement) => requirementHolds(requirement, labels));
}
