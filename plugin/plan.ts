/**
 * `kubectl zoneferry plan`: the placement a proposed target-zones would get on the live cluster,
 * from the same checks and planner admission and the runner's precheck use
 * (core/assess-migration.ts, core/planner.ts) on a fresh read of the cluster (runner/live-view.ts).
 *
 * Without ECS (by default): a user's kubeconfig holds no cloud credentials, so the disks' zones are
 * read from their PersistentVolumes (the zone label or node affinity the CSI driver writes) and
 * what only ECS knows (category where the PV does not say it, attributes a new disk must carry,
 * the category offered in the target zone) is left to the webhook and the runner's precheck, and
 * said so. With --ecs it is checked here too, as the webhook checks it.
 */
import type { V1StatefulSet } from "@kubernetes/client-node";
import { UNKNOWN_ZONE, type Assessment } from "../core/assess-migration.ts";
import { USER_ANNOTATIONS } from "../core/annotations.ts";
import { planSummary, ordinalSummary } from "../core/plan-summary.ts";
import { parseMigrationRequest, type MigrationRequest } from "../core/migration-request.ts";

/** The request the StatefulSet would carry with `targetZones` set: its other zoneferry annotations kept. */
export function proposedRequest(sts: V1StatefulSet, targetZones: string): { request: MigrationRequest } | { problems: string[] } {
  const annotations = sts.metadata?.annotations ?? {};
  const user: Record<string, string> = {};
  for (const key of Object.values(USER_ANNOTATIONS)) {
    const value = annotations[key];
    if (value !== undefined) user[key] = value;
  }
  user[USER_ANNOTATIONS.targetZones] = targetZones;
  const parsed = parseMigrationRequest(user);
  return parsed.ok ? { request: parsed.request } : { problems: parsed.problems.map((problem) => problem.message) };
}

/** A warning that only says ECS was not asked: the plugin says that once, in its own words. */
export function isCloudGap(warning: string): boolean {
  return warning.startsWith("ECS unreachable (no ECS endpoint is configured)");
}

/** What `plan` prints; `denied` when admission would refuse the request as it stands. */
export function planReport(statefulSet: string, request: MigrationRequest, assessment: Assessment, askedEcs = false): { text: string; denied: boolean } {
  const { plan } = assessment;
  const lines = [`Plan for StatefulSet ${statefulSet} to ${request.targetZones.join(",")} (strategy ${request.strategy}):`];
  for (const ordinal of plan.ordinals) lines.push(`  ${ordinalSummary(statefulSet, ordinal)}`);
  if (plan.ordinals.length === 0) lines.push("  no disk volumes: nothing to move");
  const perZone = [...plan.replicasPerZone].map(([zone, count]) => `${zone}: ${count}`).join(", ");
  lines.push(`Volumes moving: ${plan.moves.length}; replicas per zone after the move: ${perZone}`);
  const unknown = assessment.disks.filter((disk) => disk.zone === undefined || disk.zone === UNKNOWN_ZONE).map((disk) => disk.claim);
  if (unknown.length > 0) lines.push(`Zone unknown from the PV (ECS would tell): ${unknown.join(", ")}`);
  const warnings = assessment.warnings.filter((warning) => !isCloudGap(warning));
  if (warnings.length > 0) lines.push("Warnings:", ...warnings.map((warning) => `  - ${warning}`));
  if (assessment.denials.length > 0) lines.push("Admission would deny it:", ...assessment.denials.map((denial) => `  - ${denial}`));
  if (!askedEcs) lines.push("Not checked here (ECS not asked: pass --ecs; the webhook and the runner's precheck check them): disk attributes a new disk must carry, and whether ECS offers each disk's category in its new zone. Disk zones were read from the PersistentVolumes.");
  lines.push(
    `One line, as a server-side dry run's warning says it: ${planSummary(statefulSet, request.targetZones, plan)}`,
  );
  return { text: `${lines.join("\n")}\n`, denied: assessment.denials.length > 0 };
}
