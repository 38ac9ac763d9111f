/**
 * The migration guard (contract §4): while a migration holds a StatefulSet, nobody but the runner
 * may change its replicas, its claims' whenScaled retention, its pod template or its zoneferry
 * annotations. This keeps Argo CD self-heal, Flux drift correction, `helm upgrade` and
 * `kubectl scale` from undoing a migration half-way.
 *
 * The fields the runner itself set for the migration (replicas, whenScaled) are held, not denied:
 * a GitOps sync re-applies them from Git on every pass, and Flux dry-runs (and Argo CD's
 * server-side diff validates) every object of a sync before applying any, so one denial would
 * fail the user's whole sync, unrelated objects included, until the migration ends. The mutating
 * handler puts the live values back into the admitted object instead (`holdFields`), with a
 * warning; the validating handler then sees no change to them. A write that still changes one
 * reaches validation only when the mutating webhook did not answer (its failurePolicy is Ignore),
 * and is denied then (docs/decisions/0006-hold-fields-during-a-migration.md).
 *
 * Denied still: a change of the pod template or of the request, which are the user's real intent
 * and cannot wait silently. One change is let through: removing `zoneferry.io/target-zones`
 * (with any other request annotation), which cancels the migration; the runner rolls it back at
 * its next safe point (runner/cancel.ts). A scale (`kubectl scale`, HPA) is an explicit action and
 * is denied, never held (by the API server's scale policy, docs/decisions/0005-*, and here).
 */
import { isDeepStrictEqual } from "node:util";
import { ACTIVE_STATUSES, OWNED_ANNOTATIONS, REQUEST_ANNOTATIONS, USER_ANNOTATIONS, zoneferryAnnotations } from "../../core/annotations.ts";
import { activeZoneMigration } from "../../core/zone-migration.ts";
import type { AdmissionRequest, KubeObject } from "../admission/review.ts";
import { objectName } from "./intent.ts";
import type { AdmissionContext } from "./types.ts";

export interface Hold {
  readonly migrationId: string;
  readonly status: string;
  readonly step: string | undefined;
}

/** A field the runner sets for a migration, by its path under the object and its name in messages. */
interface HeldField {
  readonly path: readonly string[];
  readonly name: string;
}

/**
 * What the runner sets for a migration: replicas (scale to 0 and back) and whenScaled (Retain,
 * or scaling to 0 would delete every claim). Git keeps the user's values of both.
 */
const HELD_FIELDS: readonly HeldField[] = [
  { path: ["spec", "replicas"], name: "spec.replicas" },
  { path: ["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"], name: "spec.persistentVolumeClaimRetentionPolicy.whenScaled" },
];

/** The held StatefulSet's object with the runner's values put back, and the warning that says so. */
export interface HeldWrite {
  readonly object: KubeObject;
  /** Undefined when the write left every held field as it was. */
  readonly warning: string | undefined;
}

/** The hold on the StatefulSet this write would change, if a migration holds it and the writer is not the runner. */
export function holdOn(admission: AdmissionRequest, context: AdmissionContext): Hold | undefined {
  if (admission.operation !== "UPDATE") return undefined;
  if (context.runnerIdentity !== undefined && admission.userInfo.username === context.runnerIdentity) return undefined;
  return findHold(admission, context);
}

/**
 * The write's object with every held field back at its live value (the old object's: what the
 * runner set, or the user's value the runner has not changed yet). Deterministic, so a dry run
 * (Flux's drift detection, Argo CD's server-side diff) sees the same object every time.
 */
export function holdFields(admission: AdmissionRequest, hold: Hold): HeldWrite {
  const object = structuredClone(admission.object ?? {});
  const held: string[] = [];
  for (const field of HELD_FIELDS) {
    const live = valueAt(admission.oldObject, field.path);
    if (isDeepStrictEqual(valueAt(object, field.path), live)) continue;
    setValueAt(object, field.path, live);
    held.push(`${field.name} held at ${live === undefined ? "(unset)" : JSON.stringify(live)}`);
  }
  if (held.length === 0) return { object, warning: undefined };
  const where = hold.step === undefined ? `status ${hold.status}` : `step ${hold.step}`;
  const restored = held.length === 1 ? "it is" : "they are";
  return { object, warning: `zoneferry: ${held.join(", ")} while migration ${hold.migrationId} runs (${where}); ${restored} restored when the migration ends` };
}

/** The denial message when the request would change a held StatefulSet, else undefined. */
export function guardViolation(admission: AdmissionRequest, context: AdmissionContext): string | undefined {
  const hold = holdOn(admission, context);
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
  const holder = admission.subResource === "scale" ? context.view.getStatefulSet(admission.namespace, name, admission.workload) : admission.oldObject;
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

/**
 * What the write changes that the guard refuses. A held field still changed here was not held:
 * a scale, or a write the mutating webhook did not answer (failurePolicy Ignore); refused, so a
 * webhook outage never lets a sync undo a migration.
 */
function changedFields(admission: AdmissionRequest): string[] {
  const next = admission.object;
  const previous = admission.oldObject;
  const changes: string[] = [];
  // A Scale has spec.replicas and no retention policy: only its replicas can differ.
  for (const field of HELD_FIELDS) {
    if (!isDeepStrictEqual(valueAt(next, field.path), valueAt(previous, field.path))) changes.push(field.name);
  }
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
  // A cancel: the request's own annotation (target-zones, export-to-accounts, restore-from)
  // removed, and with it (a reverted commit) any other request key.
  const cancel = REQUEST_ANNOTATIONS.some((key) => before[key] !== undefined && after[key] === undefined);
  return cancel ? changed.filter((key) => !(REQUEST_KEYS.has(key) && after[key] === undefined)) : changed;
}

function valueAt(object: KubeObject | null, path: readonly string[]): unknown {
  let node: unknown = object;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Sets (or, for undefined, removes) the value at `path`, making the objects on the way as needed. */
function setValueAt(object: KubeObject, path: readonly string[], value: unknown): void {
  let node = object as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== "object" || child === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) Reflect.deleteProperty(node, last);
  else node[last] = structuredClone(value);
}
