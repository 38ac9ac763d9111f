/**
 * The validating handler: the guard first, then the request's annotations, then, for a new
 * request, every check of the cluster and the cloud. An admitted new request carries the job to
 * queue. Dry run gets the very same answer (the transport only skips the queueing).
 */
import type { V1StatefulSet } from "@kubernetes/client-node";
import { OWNED_ANNOTATIONS } from "../../core/annotations.ts";
import { assessMigration } from "../../core/assess-migration.ts";
import { migrationJob } from "../../core/migration-queue.ts";
import type { AnnotationProblem } from "../../core/migration-request.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import { allowed, denied } from "../admission/response.ts";
import { guardViolation } from "./guard.ts";
import { objectName, readIntent, type Intent } from "./intent.ts";
import type { AdmissionContext, AdmissionHandler, Decision } from "./types.ts";

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
  const sts = withIdentity(admission.object as unknown as V1StatefulSet, admission.namespace, name);
  const assessment = await assessMigration(sts, intent.request, context.view, context.cloud);
  const target = intent.request.targetZones.join(",");
  if (assessment.denials.length > 0) {
    return {
      verdict: denied(`zoneferry: StatefulSet ${admission.namespace}/${name} cannot move to ${target}: ${assessment.denials.join("; ")}`, assessment.warnings),
    };
  }
  const warnings = [...assessment.warnings];
  const stamped = admission.object?.metadata?.annotations?.[OWNED_ANNOTATIONS.migrationId];
  if (stamped !== intent.migrationId) {
    warnings.push(`${OWNED_ANNOTATIONS.migrationId} is not stamped with ${intent.migrationId} (is the mutating webhook off?); the runner stamps it`);
  }
  return {
    verdict: allowed(warnings),
    enqueue: migrationJob(admission.namespace, name, intent, admission.userInfo.username),
  };
}

/** The request's object (its shape checked by the decoder) with the namespace and name of the request (they may be absent from it). */
function withIdentity(sts: V1StatefulSet, namespace: string, name: string): V1StatefulSet {
  return { ...sts, metadata: { ...sts.metadata, namespace, name } };
}

function invalidMessage(admission: AdmissionRequest, problems: readonly AnnotationProblem[]): string {
  const list = problems.map((problem) => problem.message).join("; ");
  return `zoneferry: StatefulSet ${admission.namespace}/${objectName(admission)} has invalid annotations: ${list}`;
}
