/**
 * The replica hold of strategy Rolling (docs/decisions/0008-hold-a-replica-with-a-scheduling-gate.md):
 * a replica taken down is re-created by its StatefulSet at once, and must not be scheduled before
 * its claim is bound to its new disk. The chart's MutatingAdmissionPolicy `<release>-zoneferry-replica-hold`
 * (charts/zoneferry/templates/replica-hold.yaml) gates a pod at CREATE when the ConfigMap
 * `zoneferry-held-pods` of its namespace names it, with the uid of the StatefulSet that controls it.
 * The runner only writes that ConfigMap (hold) and later removes the gate (release); the API server
 * does the rest, with no webhook in the path.
 */
import { PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1Pod, type V1PodSchedulingGate } from "@kubernetes/client-node";
import { apiStatus, tolerating } from "../core/kube/api-status.ts";
import { readStatefulSet, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import { FIELD_MANAGER, orUndefined } from "./kube-patch.ts";
import { assertCarriesMigration } from "./ownership.ts";

/** The scheduling gate the policy adds: the scheduler leaves a pod carrying it alone. */
export const HOLD_GATE = "zoneferry.io/rebind";
/** The ConfigMap, one per namespace, whose keys are the pods to hold (the policy's parameter). */
export const HELD_PODS_CONFIGMAP = "zoneferry-held-pods";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
/** Tries at removing the gate when the pod changes under the patch (its test operations fail). */
const RELEASE_ATTEMPTS = 3;

/** Whether the pod carries zoneferry's gate: it cannot be scheduled until the gate is removed. */
export function isHeld(pod: V1Pod): boolean {
  return (pod.spec?.schedulingGates ?? []).some((gate) => gate.name === HOLD_GATE);
}

/**
 * Asks the API server to gate `pod` (a replica of the job's StatefulSet, by name) whenever it is
 * created from now on, until `releasePod`. Writes nothing when the ConfigMap already asks it.
 * The gate is added only at creation: the runner takes the replica down afterwards (evictPod) and
 * checks `isHeld` on the pod its StatefulSet makes again before it touches the claim.
 */
export async function holdPod(context: MigrationContext, pod: string): Promise<void> {
  assertReplicaName(context, pod);
  const sts = await readStatefulSet(context);
  assertCarriesMigration(sts, context.job);
  const uid = sts.metadata?.uid;
  if (uid === undefined) throw new PermanentMigrationError(`StatefulSet ${context.job.namespace}/${context.job.statefulSet} has no uid: cannot hold ${pod}`);
  const { namespace } = context.job;
  const held = await orUndefined(context.core.readNamespacedConfigMap({ namespace, name: HELD_PODS_CONFIGMAP }));
  if (held?.data?.[pod] === uid) return;
  if (held === undefined) {
    const body: V1ConfigMap = { metadata: { name: HELD_PODS_CONFIGMAP, namespace, labels: { "app.kubernetes.io/managed-by": "zoneferry" } }, data: { [pod]: uid } };
    // 409: another migration of this namespace made it meanwhile; add to it below.
    if (await tolerating(409, () => context.core.createNamespacedConfigMap({ namespace, body, fieldManager: FIELD_MANAGER })) !== undefined) return;
  }
  // A merge patch of one key: other migrations' keys in the same ConfigMap stay as they are.
  await context.core.patchNamespacedConfigMap({ namespace, name: HELD_PODS_CONFIGMAP, body: { data: { [pod]: uid } }, fieldManager: FIELD_MANAGER }, MERGE);
}

/**
 * Lets `pod` schedule: the ConfigMap stops asking for it first (a pod made again from then on is
 * not gated), then the gate is removed from the live pod if it carries it. A re-run, after a crash
 * between the two, still removes the gate. The ConfigMap goes when it asks for nothing more.
 */
export async function releasePod(context: MigrationContext, pod: string): Promise<void> {
  assertReplicaName(context, pod);
  await forgetHold(context, pod);
  for (let attempt = 1; ; attempt++) {
    try {
      await removeGate(context, pod);
      return;
    } catch (error) {
      // 422: a test operation failed, the pod changed (or was made again) between read and patch.
      if (apiStatus(error) !== 422 || attempt >= RELEASE_ATTEMPTS) throw error;
    }
  }
}

/** The ordinal of the probe replica: far beyond any StatefulSet's replicas (MAX_REPLICAS), so no such pod is ever made. */
const PROBE_ORDINAL = 999_999_999;

/**
 * Confirms the API server adds the hold gate before any replica is taken down: a dry-run CREATE of
 * a replica the StatefulSet never makes (its own pod template, so the namespace's other admission
 * rules, Pod Security among them, judge it as they judge a replica), asked to be held for the
 * moment of the probe. Dry-run runs every admission plugin and policy, persists nothing. Throws a
 * permanent fault when the gate does not come back: the cluster has no replica-hold policy.
 */
export async function confirmHold(context: MigrationContext): Promise<void> {
  const sts = await readStatefulSet(context);
  const probe = `${context.job.statefulSet}-${PROBE_ORDINAL}`;
  const { namespace } = context.job;
  await holdPod(context, probe);
  try {
    const template = sts.spec?.template;
    const body: V1Pod = {
      metadata: {
        name: probe,
        namespace,
        labels: template?.metadata?.labels ?? {},
        ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: context.job.statefulSet, uid: sts.metadata?.uid ?? "", controller: true }],
      },
      spec: template?.spec ?? { containers: [] },
    };
    const admitted = await context.core.createNamespacedPod({ namespace, body, dryRun: "All", fieldManager: FIELD_MANAGER });
    if (!isHeld(admitted)) {
      throw new PermanentMigrationError(`the API server did not add zoneferry's scheduling gate ${HOLD_GATE} to a dry-run replica of ${namespace}/${context.job.statefulSet}: strategy Rolling needs the chart's MutatingAdmissionPolicy <release>-zoneferry-replica-hold (Kubernetes 1.36 or later, namespace selected by the chart); nothing was taken down. Install it, or use strategy Recreate`);
    }
  } finally {
    await forgetHold(context, probe);
  }
}

async function forgetHold(context: MigrationContext, pod: string): Promise<void> {
  const { namespace } = context.job;
  const held = await orUndefined(context.core.readNamespacedConfigMap({ namespace, name: HELD_PODS_CONFIGMAP }));
  if (held?.data?.[pod] === undefined) return;
  const left = await context.core.patchNamespacedConfigMap({ namespace, name: HELD_PODS_CONFIGMAP, body: { data: { [pod]: null } }, fieldManager: FIELD_MANAGER }, MERGE);
  if (Object.keys(left.data ?? {}).length > 0) return;
  // Only the version just written, empty: a hold another migration adds meanwhile keeps it (409).
  const resourceVersion = left.metadata?.resourceVersion;
  if (resourceVersion === undefined) return;
  await tolerating(409, () => tolerating(404, () => context.core.deleteNamespacedConfigMap({ namespace, name: HELD_PODS_CONFIGMAP, body: { preconditions: { resourceVersion } } })));
}

/** One JSON patch, tested against the pod read: the same pod (uid), the gate still at that index. */
async function removeGate(context: MigrationContext, pod: string): Promise<void> {
  const { namespace } = context.job;
  const live = await orUndefined(context.core.readNamespacedPod({ namespace, name: pod }));
  const gates: readonly V1PodSchedulingGate[] = live?.spec?.schedulingGates ?? [];
  const index = gates.findIndex((gate) => gate.name === HOLD_GATE);
  if (live === undefined || index < 0) return;
  const path = `/spec/schedulingGates/${index}`;
  const body = [
    { op: "test", path: "/metadata/uid", value: live.metadata?.uid },
    { op: "test", path: `${path}/name`, value: HOLD_GATE },
    { op: "remove", path },
  ];
  await context.core.patchNamespacedPod({ namespace, name: pod, body, fieldManager: FIELD_MANAGER }, JSON_PATCH);
}

/** Only a replica of the job's StatefulSet (`<name>-<ordinal>`) is ever held or released by it. */
function assertReplicaName(context: MigrationContext, pod: string): void {
  const prefix = `${context.job.statefulSet}-`;
  if (pod.startsWith(prefix) && /^(0|[1-9][0-9]*)$/.test(pod.slice(prefix.length))) return;
  throw new PermanentMigrationError(`refusing to hold or release pod ${context.job.namespace}/${pod}: it is not named as a replica of StatefulSet ${context.job.statefulSet}`);
}
