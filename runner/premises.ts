/**
 * What the steps between scale-to-zero and rebind rely on, checked again rather than trusted to
 * the guard: the app is down (replicas 0, no pod). An admin, a tool with the runner's rights, or a
 * cluster without our webhook can scale the StatefulSet up meanwhile; a snapshot taken then, or a
 * rebind onto a disk made from an earlier snapshot, would lose what the app wrote since. The
 * migration rolls back instead, onto the disks the app wrote to.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { readStatefulSet, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import type { VolumeProgress } from "./journal/types.ts";
import { podsOf } from "./replicas.ts";
import { orUndefined } from "./kube-patch.ts";
import { isHeld } from "./pod-hold.ts";

const named = (pods: readonly V1Pod[]): string => pods.map((pod) => pod.metadata?.name ?? "?").join(", ");

/**
 * Throws a permanent fault naming what came back, unless replicas are 0 and no pod exists; under
 * strategy Rolling, unless the replica moved now is down: no pod, or the pod its StatefulSet made
 * again, held unscheduled by zoneferry's gate (runner/pod-hold.ts).
 */
export async function assertAppDown(context: MigrationContext, before: string): Promise<void> {
  if (context.replica !== undefined) return assertReplicaDown(context, context.replica.ordinal, before);
  const sts = await readStatefulSet(context);
  const replicas = sts.spec?.replicas ?? 1;
  const pods = await podsOf(context, sts);
  if (replicas === 0 && pods.length === 0) return;
  const what = [replicas === 0 ? undefined : `spec.replicas is ${replicas}`, pods.length === 0 ? undefined : `pod(s) ${named(pods)} exist`].filter((part) => part !== undefined).join(" and ");
  throw new PermanentMigrationError(`the StatefulSet came back up during the migration (${what}), past zoneferry's guard: the app may have written to its disks since they were stopped, so ${before} cannot go on`);
}

async function assertReplicaDown(context: MigrationContext, ordinal: number, before: string): Promise<void> {
  const name = `${context.job.statefulSet}-${ordinal}`;
  const pod = await orUndefined(context.core.readNamespacedPod({ namespace: context.job.namespace, name }));
  if (pod === undefined || (isHeld(pod) && pod.spec?.nodeName === undefined)) return;
  const state = pod.spec?.nodeName === undefined ? "not held by zoneferry's scheduling gate" : `scheduled on node ${pod.spec.nodeName}`;
  throw new PermanentMigrationError(`replica ${name} came back up during its move (${state}): it may have written to its disks since they were stopped, so ${before} cannot go on`);
}

/**
 * Throws a permanent fault if a source disk was attached after its snapshot was taken (ECS's
 * AttachedTime against the snapshot's CreationTime), or is attached now: it may hold writes the
 * snapshot, and so the new disk, lacks. Checked before the rebind lets go of the source.
 */
export async function assertSourcesUntouched(context: MigrationContext, volumes: readonly VolumeProgress[]): Promise<void> {
  const taken = volumes.filter((volume) => volume.snapshot !== undefined && volume.sourceDisk !== undefined);
  if (taken.length === 0) return;
  const [disks, snapshots] = await Promise.all([context.cloud.describeDisks(taken.map((volume) => volume.sourceDisk!)), context.cloud.describeSnapshots(taken.map((volume) => volume.snapshot!))]);
  const touched = taken.flatMap((volume) => {
    const disk = disks.find((found) => found.diskId === volume.sourceDisk);
    const snapshot = snapshots.find((found) => found.snapshotId === volume.snapshot);
    if (disk === undefined) return [];
    if (disk.status !== "Available") return [`${disk.diskId} of PVC ${volume.claim} is ${disk.status}${disk.instanceId === undefined ? "" : ` on ${disk.instanceId}`}`];
    const after = disk.attachedAt !== undefined && snapshot?.createdAt !== undefined && disk.attachedAt > snapshot.createdAt;
    return after ? [`${disk.diskId} of PVC ${volume.claim} was attached at ${new Date(disk.attachedAt).toISOString()}, after its snapshot ${volume.snapshot!}`] : [];
  });
  if (touched.length > 0) throw new PermanentMigrationError(`source disk(s) ${touched.join("; ")}: it may hold writes its new disk lacks, so the rebind cannot go on`);
}
