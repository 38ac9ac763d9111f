/**
 * Scale to zero, and wait until every pod is gone and every source disk is detached: only then is
 * a snapshot consistent and a PVC free to be rebound. Both waits are bounded: pods by the
 * request's ready-timeout (a pod stuck Terminating: a finalizer, a node gone), disks by the
 * runner's cloud wait (RUNNER_CLOUD_WAIT_TIMEOUT); past either the migration rolls back, and this
 * step's undo, registered even though it failed, scales the app back up.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { movingVolumes, readJournal, type MigrationContext } from "../context.ts";
import { claimBoundTo } from "../bindings.ts";
import { PermanentMigrationError } from "../faults.ts";
import { podsOf, scaleTo } from "../replicas.ts";
import { done, type Step, type StepOutcome } from "../saga/step.ts";
import { clusterWaitMs, waitWithin } from "../waits.ts";

/** Pods and disks settle in seconds: re-check often. */
const POLL_MS = 1_000;

/** "db-0 (Terminating, finalizers: x)" or "db-0 (Running)": what holds the wait up. */
export function describePods(pods: readonly V1Pod[]): string {
  return pods.map((pod) => {
    const finalizers = pod.metadata?.finalizers ?? [];
    const state = pod.metadata?.deletionTimestamp === undefined ? (pod.status?.phase ?? "Unknown") : "Terminating";
    return `${pod.metadata?.name ?? "?"} (${state}${finalizers.length === 0 ? "" : `, finalizers: ${finalizers.join(", ")}`})`;
  }).join(", ");
}

export const scaleToZero: Step<MigrationContext> = {
  name: "scale-to-zero",
  // Failing past a bound leaves the app scaled down: its undo must run then too.
  compensateOnFailure: true,
  async run(context): Promise<StepOutcome> {
    await scaleTo(context, 0);
    const pods = await podsOf(context);
    if (pods.length > 0) {
      const journal = await readJournal(context);
      const held = describePods(pods);
      return waitWithin(context, { type: "PodsStopping", limitMs: clusterWaitMs(journal), awaited: `pod(s) ${held} to go`, overdue: `pod(s) ${held} still there`, pollMs: POLL_MS });
    }
    const disks = await context.cloud.describeDisks((await movingVolumes(context)).map((volume) => volume.sourceDisk!));
    const attached = disks.filter((disk) => disk.status !== "Available");
    if (attached.length > 0) {
      const held = attached.map((disk) => `${disk.diskId} (${disk.status}${disk.instanceId === undefined ? "" : ` on ${disk.instanceId}`})`).join(", ");
      return waitWithin(context, { type: "SourcesDetaching", limitMs: context.settings.cloudWaitTimeoutMs, awaited: `source disk(s) ${held} to detach`, overdue: `source disk(s) ${held} still not detached`, pollMs: POLL_MS });
    }
    return done;
  },
  async compensate(context): Promise<StepOutcome> {
    const journal = await readJournal(context);
    const original = journal.spec.originalReplicas;
    if (original === undefined) return done;
    // A claim that is gone, or bound to neither of its disks, would be re-created empty by the
    // StatefulSet controller: the app stays down rather than start on an empty disk.
    const adrift = [];
    for (const volume of journal.status?.volumes ?? []) {
      const onSource = await claimBoundTo(context, volume.claim, volume.sourcePersistentVolume);
      if (!onSource && !(await claimBoundTo(context, volume.claim, volume.newPersistentVolume))) adrift.push(volume.claim);
    }
    if (adrift.length > 0) throw new PermanentMigrationError(`the StatefulSet is left at 0 replicas: PVC(s) ${adrift.join(", ")} not Bound to a disk holding their data, and scaling up would give them empty disks`);
    await scaleTo(context, original);
    return done;
  },
};
