/**
 * Protect: no later step may delete data. Every source PV's reclaim policy becomes Retain and the
 * StatefulSet's whenScaled retention Retain; the originals are journaled first and restored at the
 * end or on rollback, only on PVs Bound to their claims (runner/reclaim-policies.ts).
 */
import { readClaim } from "../bindings.ts";
import { shapeOf } from "../claims.ts";
import { movingVolumes, journalNameOf, readJournal, readStatefulSet, recordVolumes, type MigrationContext } from "../context.ts";
import type { VolumeProgress } from "../journal/types.ts";
import { PermanentMigrationError } from "../faults.ts";
import { patchPersistentVolume, patchStatefulSet } from "../kube-patch.ts";
import { restorePolicies } from "../reclaim-policies.ts";
import { done, type Step, type StepOutcome } from "../saga/step.ts";
import { assertOwnClaims, assertVolumeOf } from "../provenance.ts";

export const protect: Step<MigrationContext> = {
  name: "protect",
  async run(context): Promise<StepOutcome> {
    const volumes = await movingVolumes(context);
    const sts = await readStatefulSet(context);
    assertOwnClaims(sts, volumes);
    // What is to be restored goes to the journal (one write) before anything changes.
    const originals = new Map<string, Partial<VolumeProgress>>();
    for (const volume of volumes) {
      if (volume.originalReclaimPolicy !== undefined && volume.originalClaim !== undefined) continue;
      const [pv, claim] = await Promise.all([context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! }), readClaim(context, volume.claim)]);
      assertVolumeOf(pv, volume.sourceDisk, context.job.namespace, volume.claim);
      // A claim already gone (a journal from before shapes were kept, resumed past rebind) is
      // re-created from the template, as before.
      const shape = volume.originalClaim ?? (claim === undefined ? undefined : shapeOf(claim));
      originals.set(volume.claim, { originalReclaimPolicy: volume.originalReclaimPolicy ?? pv.spec?.persistentVolumeReclaimPolicy ?? "Delete", ...(shape === undefined ? {} : { originalClaim: shape }) });
    }
    await recordVolumes(context, originals);
    for (const volume of volumes) {
      const pv = await context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! });
      assertVolumeOf(pv, volume.sourceDisk, context.job.namespace, volume.claim);
      if (pv.spec?.persistentVolumeReclaimPolicy !== "Retain") await patchPersistentVolume(context, volume.sourcePersistentVolume!, { spec: { persistentVolumeReclaimPolicy: "Retain" } });
    }
    const whenScaled = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain";
    const journal = await readJournal(context);
    if (journal.spec.originalWhenScaled === undefined) await context.journal.updateSpec(context.job.namespace, journalNameOf(context), { originalWhenScaled: whenScaled });
    if (whenScaled !== "Retain") await patchStatefulSet(context, sts, { spec: { persistentVolumeClaimRetentionPolicy: { whenScaled: "Retain" } } });
    return done;
  },
  async compensate(context): Promise<StepOutcome> {
    const kept = await restorePolicies(context, (volume) => volume.sourcePersistentVolume);
    // Not a silent success: a PV left on Retain is the rollback's unfinished business.
    if (kept.length > 0) throw new PermanentMigrationError(kept.join("; "));
    return done;
  },
};
