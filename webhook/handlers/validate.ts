/**
 * The validating handler: the guard first, then the request's annotations, then, for a new
 * request, every check of the cluster and the cloud. An admitted new request carries the job to
 * queue. Dry run gets the very same answer (the transport only skips the queueing), with the
 * placement plan as a first warning: the ordinals' zones and the volumes that move.
 */
import { OWNED_ANNOTATIONS, USER_ANNOTATIONS } from "../../core/annotations.ts";
import { assessExport } from "../../core/assess-export.ts";
import { migrationAssessor } from "../../core/assess-migration.ts";
import { listWithin } from "../../core/bounded-text.ts";
import { planSummary } from "../../core/plan-summary.ts";
import { migrationJob } from "../../core/migration-queue.ts";
import type { AnnotationProblem } from "../../core/migration-request.ts";
import { endedZoneMigration, type ZoneMigration } from "../../core/zone-migration.ts";
import { DEFAULT_MAX_REPLICAS } from "../../core/size-limits.ts";
import type { Workload } from "../../core/workload/kinds.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import { allowed, denied } from "../admission/response.ts";
import { guardViolation } from "./guard.ts";
import { objectName, readIntent, type Intent } from "./intent.ts";
import type { AdmissionContext, AdmissionHandler, Decision } from "./types.ts";

/**
 * The answer to a request for a StatefulSet the cluster view does not hold under the request's
 * uid: a forged review (anyone who reaches the port can post one) or, rarely, a view a moment
 * behind the API server. Admitted, so a lagging view never fails a real user's sync, but without a
 * check of the cluster, so the answer says nothing about claims, disks or nodes; and nothing is
 * queued. A real request is not lost: the mutating webhook stamped it Pending, and the runner's
 * reconciler queues any StatefulSet whose migration-id has neither journal nor job; its precheck
 * then runs every check on the live cluster.
 */
export const UNSEEN_WARNING =
  "zoneferry has not seen this StatefulSet yet, so its checks of the cluster run when the runner prechecks the migration; the runner's reconciler queues it shortly";

/** Denial clauses quoted in one answer before the rest are counted. */
const MAX_DENIALS = 10;

export const CREATE_WARNING =
  "zoneferry.io/target-zones set at creation: a new StatefulSet has no disks to move, so nothing is queued; change target-zones or retry later to move it";

export const EXPORT_CREATE_WARNING =
  "zoneferry.io/export-to-accounts set at creation: a new StatefulSet has no data to export, so nothing is queued; set zoneferry.io/retry later to export it";

export const validate: AdmissionHandler = async (admission, context) => {
  const violation = guardViolation(admission, context);
  if (violation !== undefined) return { verdict: denied(`zoneferry: ${violation}`) };
  if (admission.subResource === "scale") return { verdict: allowed() };
  const intent = readIntent(admission);
  switch (intent.kind) {
    case "none":
    case "resync":
      return { verdict: allowed() };
    case "invalid":
      return { verdict: denied(invalidMessage(admission, intent.problems)) };
    case "create":
      return { verdict: allowed([intent.request.operation?.kind === "export" ? EXPORT_CREATE_WARNING : CREATE_WARNING]) };
    case "new":
      return assessNewRequest(admission, intent, context);
  }
};

async function assessNewRequest(
  admission: AdmissionRequest,
  intent: Extract<Intent, { kind: "new" }>,
  context: AdmissionContext,
): Promise<Decision> {
  const name = objectName(admission);
  const operation = intent.request.operation;
  if (operation !== undefined && context.crossAccount !== true) {
    return { verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name} asks for ${operation.kind === "export" ? "an export" : "a restore"} across accounts, and this zoneferry is not set up for them (the chart's crossAccount.enabled, CROSS_ACCOUNT=false): nothing is done; ask whoever installed zoneferry to enable it, or remove the annotation`) };
  }
  if (operation?.kind === "restore") return admitRestore(admission, intent, name, context);
  if (!seenInView(admission, context)) return { verdict: allowed([UNSEEN_WARNING]) };
  const ran = endedZoneMigration(context.view.listZoneMigrations(admission.namespace), name, intent.migrationId);
  if (ran !== undefined) {
    return {
      verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name}: this request already ran (ZoneMigration ${ran.metadata?.name ?? "?"} ended ${ran.status?.phase ?? "?"}), and its record is kept; to run the same request again, set zoneferry.io/retry to a new value`),
    };
  }
  const sts = withIdentity(admission.object as unknown as Workload, admission, name);
  if (intent.request.operation?.kind === "export") return assessExportRequest(admission, intent, context, sts);
  const assess = migrationAssessor({ maxReplicas: context.maxReplicas ?? DEFAULT_MAX_REPLICAS });
  const assessment = await assess(sts, intent.request, context.view, context.cloud);
  const target = intent.request.targetZones.join(",");
  if (assessment.denials.length > 0) {
    return {
      verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name} cannot move to ${target}: ${listWithin(assessment.denials, MAX_DENIALS, "; ")}`, assessment.warnings),
    };
  }
  // A server-side dry run (`kubectl apply --dry-run=server`, Argo CD's diff) is told the plan, first,
  // so the bound on warnings never cuts it.
  const warnings = admission.dryRun ? [`dry run: ${planSummary(name, intent.request.targetZones, assessment.plan)}`, ...assessment.warnings] : [...assessment.warnings];
  warnings.push(...unstampedWarnings(admission, intent.migrationId));
  return {
    verdict: allowed(warnings),
    enqueue: migrationJob({ namespace: admission.namespace, name, kind: admission.workload }, intent, admission.userInfo.username),
  };
}

/** An export: its checks, and the job to queue; its snapshots are named by the export id, the migration id. */
async function assessExportRequest(admission: AdmissionRequest, intent: Extract<Intent, { kind: "new" }>, context: AdmissionContext, sts: Workload): Promise<Decision> {
  const name = objectName(admission);
  const assessment = await assessExport(sts, { exportId: intent.migrationId, view: context.view, cloud: context.cloud, maxReplicas: context.maxReplicas ?? DEFAULT_MAX_REPLICAS });
  if (assessment.denials.length > 0) {
    return { verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name} cannot be exported: ${listWithin(assessment.denials, MAX_DENIALS, "; ")}`, assessment.warnings) };
  }
  const warnings = [...assessment.warnings, ...unstampedWarnings(admission, intent.migrationId)];
  return {
    verdict: allowed(admission.dryRun ? [`dry run: export ${intent.migrationId} of ${assessment.disks.length} claim(s) to account(s) ${admission.object?.metadata?.annotations?.[USER_ANNOTATIONS.exportToAccounts] ?? "?"}`, ...warnings] : warnings),
    enqueue: migrationJob({ namespace: admission.namespace, name, kind: admission.workload }, intent, admission.userInfo.username),
  };
}

/**
 * A restore, at creation: admitted and queued only with its replicas held at 0 by the mutating
 * webhook, which stamps the replicas Git asks for; unheld, the StatefulSet controller would give
 * every replica an empty claim before the restore could make it, so the write is refused instead
 * (the mutating webhook's failurePolicy is Ignore).
 */
function admitRestore(admission: AdmissionRequest, intent: Extract<Intent, { kind: "new" }>, name: string, context: AdmissionContext): Decision {
  const object = admission.object;
  const ran = endedZoneMigration(context.view.listZoneMigrations(admission.namespace), name, intent.migrationId);
  if (ran !== undefined) return { verdict: allowed([restoreRanWarning(admission, name, ran)]) };
  const held = object?.spec?.["replicas"] === 0 && object.metadata?.annotations?.[OWNED_ANNOTATIONS.restoreReplicas] !== undefined && object.metadata.annotations[OWNED_ANNOTATIONS.migrationId] === intent.migrationId;
  if (!held) {
    return { verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name} asks for a restore, but zoneferry's mutating webhook did not hold its replicas at 0 (did it not answer?): its pods would start on empty claims before the restore made them, so it is not created; apply it again once the mutating webhook answers`) };
  }
  const templates = (object.spec?.["volumeClaimTemplates"] as unknown[] | undefined)?.length ?? 0;
  if (templates === 0) return { verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name} asks for a restore but has no volumeClaimTemplates: there is no claim to restore`) };
  const replicas = object.metadata?.annotations?.[OWNED_ANNOTATIONS.restoreReplicas] ?? "?";
  return {
    verdict: allowed([`zoneferry: spec.replicas held at 0 until restore ${intent.migrationId} has made the claims from export ${intent.request.operation?.kind === "restore" ? intent.request.operation.exportId : "?"}; the runner scales to ${replicas} then`]),
    enqueue: migrationJob({ namespace: admission.namespace, name, kind: admission.workload }, intent, admission.userInfo.username),
  };
}

/**
 * A StatefulSet made again (deleted, then applied from Git) with a restore that already ran: its
 * claims were restored then and are still there, or are the user's now; it starts as Git says,
 * unheld (the mutating webhook leaves it alone too), and nothing is queued.
 */
export function restoreRanWarning(admission: AdmissionRequest, name: string, ran: ZoneMigration): string {
  return `zoneferry: restore ${ran.spec?.migrationId ?? "?"} of StatefulSet ${admission.namespace}/${name} already ran (ZoneMigration ${ran.metadata?.name ?? "?"} ended ${ran.status?.phase ?? "?"}), so it is not run again and the StatefulSet starts on the PVCs it finds; to restore again, delete those PVCs and set zoneferry.io/retry to a new value`;
}

function unstampedWarnings(admission: AdmissionRequest, migrationId: string): string[] {
  const stamped = admission.object?.metadata?.annotations?.[OWNED_ANNOTATIONS.migrationId];
  if (stamped === migrationId) return [];
  return [`${OWNED_ANNOTATIONS.migrationId} is not stamped with ${migrationId} (did the mutating webhook not answer?): the runner acts only on a stamped request, so this one will not run; apply it again with a new zoneferry.io/retry value once the mutating webhook answers`];
}

/** Whether the view holds the StatefulSet the request changes, by the uid the API server sent in oldObject. */
function seenInView(admission: AdmissionRequest, context: AdmissionContext): boolean {
  const uid = admission.oldObject?.metadata?.["uid"];
  const live = context.view.getStatefulSet(admission.namespace, objectName(admission), admission.workload);
  return typeof uid === "string" && uid !== "" && live?.metadata?.uid === uid;
}

/**
 * The request's object (its shape checked by the decoder) with the namespace and name of the
 * request (they may be absent from it) and the apiVersion of its kind, which the checks read.
 */
function withIdentity(sts: Workload, admission: AdmissionRequest, name: string): Workload {
  return { ...sts, apiVersion: admission.workload.apiVersion, metadata: { ...sts.metadata, namespace: admission.namespace, name } };
}

function invalidMessage(admission: AdmissionRequest, problems: readonly AnnotationProblem[]): string {
  const list = listWithin(problems.map((problem) => problem.message), MAX_DENIALS, "; ");
  return `zoneferry: StatefulSet ${admission.namespace}/${objectName(admission)} has invalid annotations: ${list}`;
}
