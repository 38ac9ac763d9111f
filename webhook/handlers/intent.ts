/**
 * What an admitted StatefulSet write asks of zoneferry (contract §2, "When a request is new"):
 * nothing, a malformed request, a request at creation (nothing to move yet), a re-apply of the
 * current request (every GitOps sync), or a new request to queue.
 */
import { USER_ANNOTATIONS } from "../../core/annotations.ts";
import { requestMigrationId } from "../../core/migration-id.ts";
import {
  normalizeTargetZones,
  parseMigrationRequest,
  type AnnotationProblem,
  type MigrationRequest,
} from "../../core/migration-request.ts";
import type { AdmissionRequest, KubeObject } from "../admission/review.ts";

export type Intent =
  | { readonly kind: "none" }
  | { readonly kind: "invalid"; readonly problems: readonly AnnotationProblem[] }
  | { readonly kind: "create"; readonly request: MigrationRequest }
  | { readonly kind: "resync"; readonly request: MigrationRequest; readonly migrationId: string }
  | { readonly kind: "new"; readonly request: MigrationRequest; readonly migrationId: string };

export function readIntent(admission: AdmissionRequest): Intent {
  const annotations = admission.object?.metadata?.annotations ?? {};
  if (admission.operation === "DELETE" || annotations[USER_ANNOTATIONS.targetZones] === undefined) return { kind: "none" };
  const parsed = parseMigrationRequest(annotations);
  if (!parsed.ok) return { kind: "invalid", problems: parsed.problems };
  const request = parsed.request;
  if (admission.operation === "CREATE") return { kind: "create", request };
  const id = requestMigrationId(admission.namespace, objectName(admission), request);
  const kind = sameRequest(admission.oldObject, request) ? "resync" : "new";
  return { kind, request, migrationId: id };
}

/** The StatefulSet's name: the request's, else the object's (CREATE with generateName has none). */
export function objectName(admission: AdmissionRequest): string {
  return admission.name !== "" ? admission.name : (admission.object?.metadata?.name ?? "");
}

function sameRequest(old: KubeObject | null, request: MigrationRequest): boolean {
  const annotations = old?.metadata?.annotations ?? {};
  const oldZones = annotations[USER_ANNOTATIONS.targetZones];
  if (oldZones === undefined) return false;
  const oldRetry = (annotations[USER_ANNOTATIONS.retry] ?? "").trim();
  return normalizeTargetZones(oldZones).join(",") === request.targetZones.join(",") && oldRetry === request.retry;
}
