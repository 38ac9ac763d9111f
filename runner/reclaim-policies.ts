/**
 * Giving PVs their original reclaim policy back (protect set Retain; its undo and finish restore
 * it). A PV gets Delete back only while it is Bound to its claim: a Released PV with Delete is
 * deleted by its provisioner with its disk, and during a rollback that disk may be the claim's
 * only live copy (docs/data-safety.md, invariant b). Such a PV keeps Retain and is named.
 */
import type { VolumeProgress } from "./journal/types.ts";
import { claimBoundTo, readVolume } from "./bindings.ts";
import { movingVolumes, readJournal, readStatefulSet, type MigrationContext } from "./context.ts";
import { patchPersistentVolume, patchStatefulSet } from "./kube-patch.ts";

/**
 * The PV keeps its disk whatever happens to it next: its policy is checked, and set to Retain,
 * right before the runner lets go of it (deletes its claim, or the PV itself). Protect set it long
 * before, but a user or a GitOps tool may have given it Delete back since, and a Released or
 * deleted PV with Delete takes its disk with it.
 */
export async function ensureRetained(context: MigrationContext, name: string | undefined): Promise<void> {
  if (name === undefined || name === "") return;
  const pv = await readVolume(context, name);
  if (pv !== undefined && pv.spec?.persistentVolumeReclaimPolicy !== "Retain") await patchPersistentVolume(context, name, { spec: { persistentVolumeReclaimPolicy: "Retain" } });
}

/**
 * Restores the journaled reclaim policies on the PVs `pvOf` names, and whenScaled on the
 * StatefulSet; answers the PVs left on Retain because they are not Bound to their claim.
 */
export async function restorePolicies(context: MigrationContext, pvOf: (volume: VolumeProgress) => string | undefined): Promise<string[]> {
  const kept: string[] = [];
  for (const volume of await movingVolumes(context)) {
    const left = await restorePolicy(context, volume, pvOf(volume));
    if (left !== undefined) kept.push(left);
  }
  return [...kept, ...(await restoreWhenScaled(context))];
}

/** One PV's policy; answers why it stays on Retain, if it does. */
async function restorePolicy(context: MigrationContext, volume: VolumeProgress, name: string | undefined): Promise<string | undefined> {
  const original = volume.originalReclaimPolicy;
  if (name === undefined || original === undefined) return undefined;
  const pv = await readVolume(context, name);
  if (pv === undefined || pv.spec?.persistentVolumeReclaimPolicy === original) return undefined;
  if (original !== "Retain" && !(await claimBoundTo(context, volume.claim, name))) {
    return `PV ${name} of PVC ${volume.claim} kept on Retain (it is ${pv.status?.phase ?? "not Bound"}, not Bound to its claim, or its claim is being deleted)`;
  }
  await patchPersistentVolume(context, name, { spec: { persistentVolumeReclaimPolicy: original } });
  return undefined;
}

/** whenScaled back on the StatefulSet; answers why it stays on Retain, if it does. */
async function restoreWhenScaled(context: MigrationContext): Promise<string[]> {
  const { originalWhenScaled: original, originalReplicas } = (await readJournal(context)).spec;
  const sts = await readStatefulSet(context);
  if (original === undefined || (sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain") === original) return [];
  // whenScaled Delete on a StatefulSet left below its replicas would delete the claims above.
  if (original === "Delete" && originalReplicas !== undefined && sts.spec?.replicas !== originalReplicas) {
    return [`whenScaled kept on Retain (the StatefulSet has ${sts.spec?.replicas ?? 0} of its ${originalReplicas} replicas)`];
  }
  await patchStatefulSet(context, sts, { spec: { persistentVolumeClaimRetentionPolicy: { whenScaled: original } } });
  return [];
}
