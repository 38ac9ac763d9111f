/**
 * Protect: no later step may delete data. Every source PV's reclaim policy becomes Retain and the
 * StatefulSet's whenScaled retention Retain; the originals are journaled first and restored at the
 * end or on rollback.
 */
import { movingVolumes, journalNameOf, readJournal, readStatefulSet, recordVolume, type MigrationContext } from "../context.ts";
import { orUndefined, patchPersistentVolume, patchStatefulSet } from "../kube-patch.ts";
import { done, type Step, type StepOutcome } from "../saga/step.ts";

export const protect: Step<MigrationContext> = {
  name: "protect",
  async run(context): Promise<StepOutcome> {
    for (const volume of await movingVolumes(context)) {
      const pv = await context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! });
      const policy = pv.spec?.persistentVolumeReclaimPolicy ?? "Delete";
      if (volume.originalReclaimPolicy === undefined) await recordVolume(context, volume.claim, { originalReclaimPolicy: policy });
      if (policy !== "Retain") await patchPersistentVolume(context, volume.sourcePersistentVolume!, { spec: { persistentVolumeReclaimPolicy: "Retain" } });
    }
    const sts = await readStatefulSet(context);
    const whenScaled = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain";
    const journal = await readJournal(context);
    if (journal.spec.originalWhenScaled === undefined) await context.journal.updateSpec(context.job.namespace, journalNameOf(context), { originalWhenScaled: whenScaled });
    if (whenScaled !== "Retain") await patchStatefulSet(context, { spec: { persistentVolumeClaimRetentionPolicy: { whenScaled: "Retain" } } });
    return done;
  },
  async compensate(context): Promise<StepOutcome> {
    await restorePolicies(context, (volume) => volume.sourcePersistentVolume);
    return done;
  },
};

/** Puts the journaled reclaim policies back on the PVs `pvOf` names, and whenScaled on the StatefulSet. */
export async function restorePolicies(context: MigrationContext, pvOf: (volume: { sourcePersistentVolume?: string; newPersistentVolume?: string }) => string | undefined): Promise<void> {
  for (const volume of await movingVolumes(context)) {
    const name = pvOf(volume);
    if (name === undefined || volume.originalReclaimPolicy === undefined) continue;
    const pv = await orUndefined(context.core.readPersistentVolume({ name }));
    if (pv !== undefined && pv.spec?.persistentVolumeReclaimPolicy !== volume.originalReclaimPolicy) {
      await patchPersistentVolume(context, name, { spec: { persistentVolumeReclaimPolicy: volume.originalReclaimPolicy } });
    }
  }
  const original = (await readJournal(context)).spec.originalWhenScaled;
  const sts = await readStatefulSet(context);
  if (original !== undefined && (sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain") !== original) {
    await patchStatefulSet(context, { spec: { persistentVolumeClaimRetentionPolicy: { whenScaled: original } } });
  }
}
