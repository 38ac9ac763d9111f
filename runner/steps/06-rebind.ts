/**
 * Rebind: for each volume, the PV of the new disk is created (pre-bound to the claim's name), the
 * old PVC is deleted (its PV, Retain since protect, stays Released with the data), and the PVC is
 * created again under the same name, bound to the new PV. Rollback reverses it: the new PVC and
 * PV go, the old PV is freed for its claim, and the PVC is created again on the old PV.
 */
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { movingVolumes, readStatefulSet, recordVolume, type MigrationContext } from "../context.ts";
import { claimFor, persistentVolumeFor } from "../claims.ts";
import { orUndefined, patchPersistentVolume } from "../kube-patch.ts";
import { done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";
import type { VolumeProgress } from "../journal/types.ts";

const POLL_MS = 500;

async function readClaim(context: MigrationContext, name: string): Promise<V1PersistentVolumeClaim | undefined> {
  return orUndefined(context.core.readNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, name }));
}

/** Moves one claim onto `target` PV; answers what is left to wait for, or undefined when bound. */
async function bindClaimTo(context: MigrationContext, claim: string, target: string): Promise<string | undefined> {
  const current = await readClaim(context, claim);
  if (current?.spec?.volumeName === target) return current.status?.phase === "Bound" ? undefined : `PVC ${claim} to bind`;
  if (current !== undefined) {
    if (current.metadata?.deletionTimestamp === undefined) await context.core.deleteNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, name: claim });
    return `old PVC ${claim} to go`;
  }
  await context.core.createNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, body: claimFor(await readStatefulSet(context), claim, target) });
  return `PVC ${claim} to bind`;
}

async function ensureNewVolume(context: MigrationContext, volume: VolumeProgress): Promise<void> {
  if (await orUndefined(context.core.readPersistentVolume({ name: volume.newDisk! }))) return;
  const source = await context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! });
  await context.core.createPersistentVolume({ body: persistentVolumeFor(source, volume.newDisk!, volume.zone!, { namespace: context.job.namespace, name: volume.claim }) });
  await recordVolume(context, volume.claim, { newPersistentVolume: volume.newDisk!, state: "pv-created" });
}

/** A Released PV keeps its old claim's uid; forgetting it lets a claim of the same name bind again. */
async function freeForClaim(context: MigrationContext, name: string, claim: string): Promise<void> {
  const pv = await orUndefined(context.core.readPersistentVolume({ name }));
  if (pv?.spec?.claimRef?.uid === undefined) return;
  const bound = await readClaim(context, claim);
  if (bound?.metadata?.uid === pv.spec.claimRef.uid) return;
  await patchPersistentVolume(context, name, { spec: { claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: context.job.namespace, name: claim, uid: null, resourceVersion: null } } });
}

export const rebind: Step<MigrationContext> = {
  name: "rebind",
  async run(context): Promise<StepOutcome> {
    const waits: string[] = [];
    for (const volume of await movingVolumes(context)) {
      await ensureNewVolume(context, volume);
      const waiting = await bindClaimTo(context, volume.claim, volume.newDisk!);
      if (waiting !== undefined) waits.push(waiting);
      else if (volume.state !== "rebound") await recordVolume(context, volume.claim, { state: "rebound" });
    }
    return waits.length === 0 ? done : waitAndRecheck(POLL_MS, `waiting for ${waits.join(", ")}`);
  },
  async compensate(context): Promise<StepOutcome> {
    const waits: string[] = [];
    for (const volume of await movingVolumes(context)) {
      await freeForClaim(context, volume.sourcePersistentVolume!, volume.claim);
      const waiting = await bindClaimTo(context, volume.claim, volume.sourcePersistentVolume!);
      if (waiting !== undefined) {
        waits.push(waiting);
        continue;
      }
      if (volume.newDisk !== undefined && (await orUndefined(context.core.readPersistentVolume({ name: volume.newDisk }))) !== undefined) {
        await context.core.deletePersistentVolume({ name: volume.newDisk });
      }
    }
    return waits.length === 0 ? done : waitAndRecheck(POLL_MS, `waiting for ${waits.join(", ")}`);
  },
};
