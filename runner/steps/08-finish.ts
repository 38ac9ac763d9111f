/**
 * Finish: the app runs healthy on its new disks. Reclaim and retention policies return to what
 * they were (on the new PVs too); unless retain-source is true, the source PVs and disks are
 * deleted: the only irreversible step, and the last.
 */
import { movingVolumes, readJournal, type MigrationContext } from "../context.ts";
import { orUndefined } from "../kube-patch.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import { restorePolicies } from "./02-protect.ts";

export const finish: Step<MigrationContext> = {
  name: "finish",
  async run(context): Promise<StepOutcome> {
    await restorePolicies(context, (volume) => volume.newPersistentVolume);
    if ((await readJournal(context)).spec.request?.retainSource === true) return done;
    for (const volume of await movingVolumes(context)) {
      const pv = await orUndefined(context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! }));
      if (pv !== undefined) await context.core.deletePersistentVolume({ name: volume.sourcePersistentVolume! });
      const [disk] = await context.cloud.describeDisks([volume.sourceDisk!]);
      if (disk?.status === "In_use") return waitAndRecheck(1_000, `waiting for source disk ${disk.diskId} to detach`);
      if (disk !== undefined) await context.cloud.deleteDisk(disk.diskId);
    }
    return done;
  },
};
