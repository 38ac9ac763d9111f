/**
 * The migration guard (contract §4): while a migration holds a StatefulSet, nobody but the runner
 * may change its replicas (object or scale subresource), its pod template or its zoneferry
 * annotations. This keeps Argo CD self-heal, Flux drift correction, `helm upgrade` and
 * `kubectl scale` from undoing a migration half-way. One change is let through: removing
 * `zoneferry.io/target-zones` (with any other request annotation), which cancels the migration;
 * the runner rolls it back at its next safe point (runner/cancel.ts).
 */
import { isDeepStrictEqual } from "node:util";
import { ACTIVE_STATUSES, OWNED_ANNOTATIONS, USER_ANNOTATIONS, zoneferryAnnotations } from "../../core/annotations.ts";
import { activeZoneMigration } from "../../core/zone-migration.ts";
import type { AdmissionRequest, KubeObject } from "../admission/review.ts";
import { objectName } from "./intent.ts";
import type { AdmissionContext } from "./types.ts";

interface Hold {
  readonly migrationId: string;
  readonly status: string;
  readonly step: string | undefined;
}

/** The denial message when the request would change a held StatefulSet, else undefined. */
export function guardViolation(admission: AdmissionRequest, context: AdmissionContext): string | undefined {
  if (admission.operation !== "UPDATE") return undefined;
  if (context.runnerIdentity !== undefined && admission.userInfo.username === context.runnerIdentity) return undefined;
  const hold = findHold(admission, context);
  if (hold === undefined) return undefined;
  const changes = changedFields(admission);
  if (changes.length === 0) return undefined;
  const where = hold.step === undefined ? `status ${hold.status}` : `status ${hold.status}, step ${hold.step}`;
  return (
    `StatefulSet ${admission.namespace}/${objectName(admission)} is held by zoneferry migration ${hold.migrationId} (${where}): ` +
    `${changes.join(", ")} cannot change until the migration ends; it is released when the migration ends (Succeeded, Failed or RollbackFailed), ` +
    `so apply again then`
  );
}

function findHold(admission: AdmissionRequest, context: AdmissionContext): Hold | undefined {
  const name = objectName(admission);
  // A scale request carries a Scale, not the StatefulSet: its annotations come from the view.
  const holder = admission.subResource === "scale" ? context.view.getStatefulSet(admission.namespace, name) : admission.oldObject;
  const annotations = holder?.metadata?.annotations ?? {};
  const status = annotations[OWNED_ANNOTATIONS.status];
  if (status !== undefined && ACTIVE_STATUSES.has(status)) {
    return { migrationId: annotations[OWNED_ANNOTATIONS.migrationId] ?? "(unknown id)", status, step: annotations[OWNED_ANNOTATIONS.step] };
  }
  const journal = activeZoneMigration(context.view.listZoneMigrations(admission.namespace), name);
  if (journal === undefined) return undefined;
  return {
    migrationId: journal.spec?.migrationId ?? journal.metadata?.name ?? "(unknown id)",
    status: journal.status?.phase ?? "Pending",
    step: journal.status?.step,
  };
}

function changedFields(admission: AdmissionRequest): string[] {
  const next = admission.object;
  const previous = admission.oldObject;
  const changes: string[] = [];
  if (!isDeepStrictEqual(next?.spec?.["replicas"], previous?.spec?.["replicas"])) changes.push("spec.replicas");
  if (admission.subResource === "scale") return changes;
  if (!isDeepStrictEqual(next?.spec?.["template"], previous?.spec?.["template"])) changes.push("spec.template");
  const changedKeys = changedAnnotationKeys(next, previous);
  if (changedKeys.length > 0) changes.push(`the zoneferry annotations (${changedKeys.join(", ")})`);
  return changes;
}

const REQUEST_KEYS: ReadonlySet<string> = new Set(Object.values(USER_ANNOTATIONS));

function changedAnnotationKeys(next: KubeObject | null, previous: KubeObject | null): string[] {
  const after = zoneferryAnnotations(next?.metadata?.annotations);
  const before = zoneferryAnnotations(previous?.metadata?.annotations);
  const keys = new Set([...Object.keys(after), ...Object.keys(before)]);
  const changed = [...keys].filter((key) => after[key] !== before[key]).sort();
  // A cancel: the request's target-zones removed, and with it (a reverted commit) any other request key.
  const cancel = before[USER_ANNOTATIONS.targetZones] !== undefined && after[USER_ANNOTATIONS.targetZones] === undefined;
  return cancel ? changed.filter((key) => !(REQUEST_KEYS.has(key) && after[key] === undefined)) : changed;
}
