/**
 * Scale to zero, and wait until every pod is gone and every source disk is detached: only then is
 * a snapshot consistent and a PVC free to be rebound.
 */
import { movingVolumes, readJournal, type MigrationContext } from "../context.ts";
import { claimBoundTo } from "../bindings.ts";
import { PermanentMigrationError } from "../faults.ts";
import { podsOf, scaleTo } from "../replicas.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";

/** Pods and disks settle in seconds: re-check often. */
const POLL_MS = 1_000;

export const scaleToZero: Step<MigrationContext> = {
  name: "scale-to-zero",
  async run(context): Promise<StepOutcome> {
    await scaleTo(context, 0);
    const pods = await podsOf(context);
    if (pods.length > 0) return waitAndRecheck(POLL_MS, `waiting for ${pods.length} pod(s) to go`);
    const disks = await context.cloud.describeDisks((await movingVolumes(context)).map((volume) => volume.sourceDisk!));
    const attached = disks.filter((disk) => disk.status === "In_use");
    if (attached.length > 0) return waitAndRecheck(POLL_MS, `waiting for ${attached.length} disk(s) to detach`);
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
