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
  unavailableStrategy,
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
  const kind = admission.operation === "CREATE" ? "create" : sameRequest(admission.oldObject, request) ? "resync" : "new";
  // Only a request that would run, or a change to the strategy, is told; a re-apply of what an
  // earlier zoneferry accepted still syncs.
  const unavailable = unavailableStrategy(request, annotations);
  if (unavailable !== undefined && (kind !== "resync" || strategyChanged(admission.oldObject, annotations))) {
    return { kind: "invalid", problems: [unavailable] };
  }
  if (kind === "create") return { kind, request };
  const id = requestMigrationId(admission.namespace, objectName(admission), request);
  return { kind, request, migrationId: id };
}

function strategyChanged(old: KubeObject | null, annotations: Readonly<Record<string, string>>): boolean {
  const before = old?.metadata?.annotations?.[USER_ANNOTATIONS.strategy]?.trim().toLowerCase();
  return before !== annotations[USER_ANNOTATIONS.strategy]?.trim().toLowerCase();
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
