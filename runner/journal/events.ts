/**
 * Kubernetes Events on the StatefulSet for every step transition (contract §3), so that
 * `kubectl describe statefulset` and Argo CD's event view tell the migration's story.
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { workloadKind } from "../../core/workload/kinds.ts";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig, type V1StatefulSet } from "@kubernetes/client-node";
import { OWNED_ANNOTATIONS } from "../../core/annotations.ts";
import { tolerating } from "../../core/kube/api-status.ts";
import { oneLine } from "./statefulset-status.ts";

export const EVENT_REASONS = ["ZoneferryStep", "ZoneferrySucceeded", "ZoneferryFailed", "ZoneferryRollingBack", "ZoneferryRollbackFailed"] as const;
export type ZoneferryEventReason = (typeof EVENT_REASONS)[number];

/** The component Events name as their source (`reportingComponent`, `source.component`). */
export const REPORTING_COMPONENT = "zoneferry-runner";

export interface ZoneferryEvent {
  readonly reason: ZoneferryEventReason;
  readonly message: string;
  readonly type: "Normal" | "Warning";
  /** The migration the Event tells of; by default the one the StatefulSet is stamped with (zoneferry.io/migration-id). */
  readonly migrationId?: string;
}

/** The annotation on each Event naming its migration, for `kubectl get events -o` and the kubectl plugin. */
export const EVENT_MIGRATION_ANNOTATION = OWNED_ANNOTATIONS.migrationId;

/** The migration an Event of `statefulSet` tells of: the event's own, else the StatefulSet's stamp. */
export function eventMigrationId(statefulSet: V1StatefulSet, event: Pick<ZoneferryEvent, "migrationId">): string | undefined {
  const id = event.migrationId ?? statefulSet.metadata?.annotations?.[OWNED_ANNOTATIONS.migrationId];
  return id === undefined || id === "" ? undefined : id;
}

/**
 * The Event's message as `kubectl describe` shows it: prefixed with the migration id
 * (`migration 3f2a9c0d1b4e: step snapshot`), which the annotation also carries, unless the
 * message already names it.
 */
export function eventMessage(statefulSet: V1StatefulSet, event: Pick<ZoneferryEvent, "message" | "migrationId">): string {
  const id = eventMigrationId(statefulSet, event);
  const message = oneLine(event.message);
  return id === undefined || message.includes(id) ? message : oneLine(`migration ${id}: ${message}`);
}

/**
 * Records a core/v1 Event on the StatefulSet (core/v1 rather than events.k8s.io/v1 because
 * `kubectl describe` and GitOps UIs read core/v1 and the `count` aggregation below is its own).
 *
 * A repeat does not spam: the Event's name is derived from (StatefulSet uid, reason, message), so
 * recording the same thing again bumps `count` and `lastTimestamp` of the one Event, as kubelet's
 * event aggregation does. Messages carry the migration id (and the Event its annotation
 * zoneferry.io/migration-id) and the step, so distinct transitions, and the same step of two
 * migrations, stay distinct Events. The bump is a read-then-merge-patch without a version check: two racing bumps
 * may count once, which costs a number on a counter and nothing else.
 */
export async function recordEvent(kubeconfig: KubeConfig, statefulSet: V1StatefulSet, event: ZoneferryEvent): Promise<CoreV1Event> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const body = eventObject(statefulSet, event, new Date());
  const namespace = body.metadata.namespace!;
  const name = body.metadata.name;
  const existing = await tolerating(404, () => core.readNamespacedEvent({ namespace, name }));
  if (existing === undefined) {
    const created = await tolerating(409, () => core.createNamespacedEvent({ namespace, body }));
    if (created !== undefined) return created;
  }
  // Exists (or another writer created it a moment ago): count this occurrence on it.
  const seen = existing ?? (await core.readNamespacedEvent({ namespace, name }));
  return core.patchNamespacedEvent(
    { namespace, name, body: { count: (seen.count ?? 1) + 1, lastTimestamp: rfc3339(new Date()) } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** The Event's deterministic name: `<statefulset>.zf<hash>` like the `<object>.<suffix>` names kubelet uses. */
export function eventName(statefulSet: V1StatefulSet, event: Pick<ZoneferryEvent, "reason" | "message" | "migrationId">): string {
  const uid = statefulSet.metadata?.uid ?? "";
  const digest = createHash("sha256").update(`${uid}\0${event.reason}\0${eventMessage(statefulSet, event)}`).digest("hex").slice(0, 16);
  return `${statefulSet.metadata?.name ?? ""}.zf${digest}`;
}

function eventObject(statefulSet: V1StatefulSet, event: ZoneferryEvent, now: Date): CoreV1Event & { metadata: { name: string } } {
  const { name, namespace, uid, resourceVersion } = statefulSet.metadata ?? {};
  if (name === undefined || namespace === undefined || uid === undefined) {
    throw new Error(`cannot record ${event.reason}: the StatefulSet has no name, namespace or uid (pass the object read from the API server)`);
  }
  const migrationId = eventMigrationId(statefulSet, event);
  return {
    metadata: { name: eventName(statefulSet, event), namespace, ...(migrationId === undefined ? {} : { annotations: { [EVENT_MIGRATION_ANNOTATION]: migrationId } }) },
    // kubectl describe and Argo CD find a StatefulSet's Events by its kind's apiVersion and uid.
    involvedObject: { apiVersion: workloadKind(statefulSet.apiVersion).apiVersion, kind: "StatefulSet", name, namespace, uid, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    reason: event.reason,
    message: eventMessage(statefulSet, event),
    type: event.type,
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
    source: { component: REPORTING_COMPONENT },
    reportingComponent: REPORTING_COMPONENT,
    reportingInstance: hostname(),
  };
}

/** Seconds precision: what metav1.Time keeps anyway. */
function rfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
