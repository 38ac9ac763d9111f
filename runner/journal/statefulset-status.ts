/**
 * The zoneferry-owned annotations on the StatefulSet (contract §3): status, step and message, the
 * summary a user sees in Argo CD or `kubectl describe` without knowing about ZoneMigrations.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { OWNED_ANNOTATIONS, type MigrationStatus } from "../../core/annotations.ts";
import { NATIVE, type WorkloadKind } from "../../core/workload/kinds.ts";
import { workloadClient } from "../workload/workload-client.ts";

export interface StatefulSetStatusUpdate {
  readonly status: MigrationStatus;
  /** The step now running or the last one; absent leaves the annotation as it is, null removes it. */
  readonly step?: string | null;
  /** One line for a human; absent leaves the annotation as it is, null removes it. */
  readonly message?: string | null;
  /** Write only to this version of the StatefulSet: a writer that decided on an earlier read (the reconciler). */
  readonly ifResourceVersion?: string;
  /** The StatefulSet's kind: apps/v1 when absent. */
  readonly kind?: WorkloadKind;
}

/** Field manager of the write, the runner's name (managedFields show who wrote what). */
export const STATUS_FIELD_MANAGER = "zoneferry-runner";

/**
 * An annotation value is shown on one line in most UIs and all of a StatefulSet's annotations
 * share a 256 KiB budget; a stack trace in a message would spend it for nothing.
 */
const MAX_MESSAGE_LENGTH = 1024;

/** The message as it is stored: whitespace runs (newlines included) collapsed, at most 1 KiB. */
export function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  return flat.length <= MAX_MESSAGE_LENGTH ? flat : `${flat.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}

/**
 * Writes the status annotations with a merge patch that touches nothing else (Git owns the rest).
 * Reads first and writes only when a value differs, so a repeated write does not bump the
 * resourceVersion (which would wake every informer and GitOps diff for nothing). With
 * `ifResourceVersion`, the write goes only to that version of the StatefulSet (else a 409, or false).
 * @returns whether the StatefulSet was patched.
 */
export async function writeStatefulSetStatus(
  kubeconfig: KubeConfig,
  namespace: string,
  name: string,
  update: StatefulSetStatusUpdate,
): Promise<boolean> {
  const workloads = workloadClient(kubeconfig, update.kind ?? NATIVE);
  const read = await workloads.read(namespace, name);
  const current = read.metadata?.annotations ?? {};
  // A writer that decided on an earlier read (the reconciler) writes only if nothing changed since.
  if (update.ifResourceVersion !== undefined && read.metadata?.resourceVersion !== update.ifResourceVersion) return false;
  const wanted = wantedAnnotations(update);
  const changes = Object.fromEntries(Object.entries(wanted).filter(([key, value]) => (current[key] ?? null) !== value));
  if (Object.keys(changes).length === 0) return false;
  await workloads.patch(namespace, name, { metadata: { annotations: changes, ...(update.ifResourceVersion === undefined ? {} : { resourceVersion: update.ifResourceVersion }) } }, STATUS_FIELD_MANAGER);
  return true;
}

/** The annotations to set (string) or remove (null); absent fields are left out. */
function wantedAnnotations(update: StatefulSetStatusUpdate): Record<string, string | null> {
  const wanted: Record<string, string | null> = { [OWNED_ANNOTATIONS.status]: update.status };
  if (update.step !== undefined) wanted[OWNED_ANNOTATIONS.step] = update.step;
  if (update.message !== undefined) wanted[OWNED_ANNOTATIONS.message] = update.message === null ? null : oneLine(update.message);
  return wanted;
}
