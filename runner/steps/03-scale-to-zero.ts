/**
 * Scale to zero, and wait until every pod is gone and every source disk is detached: only then is
 * a snapshot consistent and a PVC free to be rebound.
 */
import { movingVolumes, readJournal, type MigrationContext } from "../context.ts";
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
    const original = (await readJournal(context)).spec.originalReplicas;
    if (original !== undefined) await scaleTo(context, original);
    return done;
  },
};
