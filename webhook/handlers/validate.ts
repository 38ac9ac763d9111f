/**
 * The validating handler: the guard first, then the request's annotations, then, for a new
 * request, every check of the cluster and the cloud. An admitted new request carries the job to
 * queue. Dry run gets the very same answer (the transport only skips the queueing), with the
 * placement plan as a first warning: the ordinals' zones and the volumes that move.
 */
import { OWNED_ANNOTATIONS } from "../../core/annotations.ts";
import { migrationAssessor } from "../../core/assess-migration.ts";
import { listWithin } from "../../core/bounded-text.ts";
import { planSummary } from "../../core/plan-summary.ts";
import { migrationJob } from "../../core/migration-queue.ts";
import type { AnnotationProblem } from "../../core/migration-request.ts";
import { endedZoneMigration } from "../../core/zone-migration.ts";
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
      return { verdict: allowed([CREATE_WARNING]) };
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
  if (!seenInView(admission, context)) return { verdict: allowed([UNSEEN_WARNING]) };
  const ran = endedZoneMigration(context.view.listZoneMigrations(admission.namespace), name, intent.migrationId);
  if (ran !== undefined) {
    return {
      verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name}: this request already ran (ZoneMigration ${ran.metadata?.name ?? "?"} ended ${ran.status?.phase ?? "?"}), and its record is kept; to run the same request again, set zoneferry.io/retry to a new value`),
    };
  }
  const sts = withIdentity(admission.object as unknown as Workload, admission, name);
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
  const stamped = admission.object?.metadata?.annotations?.[OWNED_ANNOTATIONS.migrationId];
  if (stamped !== intent.migrationId) {
    warnings.push(`${OWNED_ANNOTATIONS.migrationId} is not stamped with ${intent.migrationId} (did the mutating webhook not answer?): the runner acts only on a stamped request, so this one will not run; apply it again with a new zoneferry.io/retry value once the mutating webhook answers`);
  }
  return {
    verdict: allowed(warnings),
    enqueue: migrationJob({ namespace: admission.namespace, name, kind: admission.workload }, intent, admission.userInfo.username),
  };
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
