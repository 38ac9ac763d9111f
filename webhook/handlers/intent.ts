/**
 * What an admitted StatefulSet write asks of zoneferry (contract §2, "When a request is new"):
 * nothing, a malformed request, a request at creation (nothing to move or export yet), a re-apply
 * of the current request (every GitOps sync), or a new request to queue. A restore is the one
 * request that is new at creation, and only then: it makes the claims a new StatefulSet starts on.
 */
import { USER_ANNOTATIONS, requestAnnotationsOf } from "../../core/annotations.ts";
import { operationMaterial, parseExportAccounts, parseRestoreFrom, type RequestOperation } from "../../core/cross-account-request.ts";
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
  if (admission.operation === "DELETE" || requestAnnotationsOf(annotations).length === 0) return { kind: "none" };
  const parsed = parseMigrationRequest(annotations);
  if (!parsed.ok) return { kind: "invalid", problems: parsed.problems };
  const request = parsed.request;
  const restore = request.operation?.kind === "restore";
  const kind = admission.operation === "CREATE" ? (restore ? "new" : "create") : sameRequest(admission.oldObject, request) ? "resync" : "new";
  if (restore && kind === "new" && admission.operation !== "CREATE") {
    const value = annotations[USER_ANNOTATIONS.restoreFrom] ?? "";
    return { kind: "invalid", problems: [{ annotation: USER_ANNOTATIONS.restoreFrom, value, message: `annotation ${USER_ANNOTATIONS.restoreFrom} is read only when the StatefulSet is created (its claims are made before its first pod); this StatefulSet exists, so delete it (and its PVCs, if they are to be restored) and apply it again, or remove the annotation` }] };
  }
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
  const oldRetry = (annotations[USER_ANNOTATIONS.retry] ?? "").trim();
  if (oldRetry !== request.retry) return false;
  if (request.operation !== undefined) return operationMaterial(oldOperation(annotations)) === operationMaterial(request.operation);
  const oldZones = annotations[USER_ANNOTATIONS.targetZones];
  return oldZones !== undefined && normalizeTargetZones(oldZones).join(",") === request.targetZones.join(",");
}

/** The export or restore the old object asked for, if its annotation parses. */
function oldOperation(annotations: Readonly<Record<string, string>>): RequestOperation | undefined {
  const exported = annotations[USER_ANNOTATIONS.exportToAccounts];
  const restored = annotations[USER_ANNOTATIONS.restoreFrom];
  const parsed = exported !== undefined ? parseExportAccounts(exported) : restored !== undefined ? parseRestoreFrom(restored) : undefined;
  return parsed !== undefined && "kind" in parsed ? parsed : undefined;
}
