/**
 * Rebind: for each volume, the PV of the new disk is created (pre-bound to the claim's name), the
 * old PVC is deleted (its PV, Retain since protect, stays Released with the data), and the PVC is
 * created again under the same name, bound to the new PV. Rollback reverses it: the new PVC and
 * PV go, the old PV is freed for its claim, and the PVC is created again on the old PV. Both wait
 * at most the request's ready-timeout for claims to go and to bind: a PVC held by another tool's
 * finalizer is named, and the migration rolls back (or its rollback says what it could not undo).
 * Before it deletes anything, the app must still be down (runner/premises.ts).
 */
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { tolerating } from "../../core/kube/api-status.ts";
import { readClaim } from "../bindings.ts";
import { ensureRetained } from "../reclaim-policies.ts";
import { movingVolumes, readJournal, readStatefulSet, recordVolumes, type MigrationContext } from "../context.ts";
import { claimFrom, persistentVolumeFor } from "../claims.ts";
import { orUndefined, patchPersistentVolume } from "../kube-patch.ts";
import { done, type Step, type StepOutcome } from "../saga/step.ts";
import { assertAppDown, assertSourcesUntouched } from "../premises.ts";
import { clusterWaitMs, waitWithin } from "../waits.ts";
import type { VolumeProgress } from "../journal/types.ts";
import { mapLimit } from "../parallel.ts";
import { ProvenanceError, assertOwnClaims, assertVolumeOf, madeByRunFor } from "../provenance.ts";

const POLL_MS = 500;
/** Volumes rebound at once: each is a handful of API calls, and 64 in turn would add seconds of downtime. */
const PARALLEL = 16;

/** pvc-protection's own finalizer goes with the pods; any other is a tool's, named for a human. */
function heldBy(claim: V1PersistentVolumeClaim): string {
  const foreign = (claim.metadata?.finalizers ?? []).filter((finalizer) => finalizer !== "kubernetes.io/pvc-protection");
  return foreign.length === 0 ? "" : ` (held by finalizer(s) ${foreign.join(", ")})`;
}

/** Moves one claim onto `target` PV; answers what is left to wait for, or undefined when bound. */
async function bindClaimTo(context: MigrationContext, volume: VolumeProgress, target: string): Promise<string | undefined> {
  const claim = volume.claim;
  const current = await readClaim(context, claim);
  if (current?.metadata?.deletionTimestamp !== undefined && current.spec?.volumeName === target) {
    // Being deleted on the PV it should stay on (a tool's finalizer holds it): it cannot be kept,
    // so its PV keeps the disk (Retain) and the claim is made again once it has gone.
    await ensureRetained(context, target);
    return `PVC ${claim} to go and be made again${heldBy(current)}`;
  }
  if (current?.spec?.volumeName === target) return current.status?.phase === "Bound" ? undefined : `PVC ${claim} to bind`;
  if (current !== undefined) {
    // Strategy Rolling: the StatefulSet controller made the claim again for its held pod, from the
    // template, before the runner did. The target PV is pre-bound to the claim's name, which the
    // binder prefers to any other: it gets the target, so it is awaited, never deleted.
    if (current.spec?.volumeName === undefined && current.metadata?.deletionTimestamp === undefined && (await awaitsClaim(context, target, current))) return `PVC ${claim} to bind`;
    if (current.metadata?.deletionTimestamp === undefined) {
      // The PV it leaves keeps its disk, whoever gave it Delete back since protect.
      await ensureRetained(context, current.spec?.volumeName);
      await context.core.deleteNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, name: claim });
    }
    return `old PVC ${claim} to go${heldBy(current)}`;
  }
  // 409: the StatefulSet controller made it first (strategy Rolling); the next look sees it bind.
  const body = claimFrom(volume.originalClaim, await readStatefulSet(context), claim, target);
  await tolerating(409, () => context.core.createNamespacedPersistentVolumeClaim({ namespace: context.job.namespace, body }));
  return `PVC ${claim} to bind`;
}

/** Whether PV `name` is pre-bound to `claim` (by name, and by no other claim's uid). */
async function awaitsClaim(context: MigrationContext, name: string, claim: V1PersistentVolumeClaim): Promise<boolean> {
  const ref = (await orUndefined(context.core.readPersistentVolume({ name })))?.spec?.claimRef;
  return ref?.namespace === context.job.namespace && ref.name === claim.metadata?.name && (ref.uid === undefined || ref.uid === claim.metadata?.uid);
}

/** Creates the new disk's PV unless it exists; answers the journal change, if one is due. */
async function ensureNewVolume(context: MigrationContext, volume: VolumeProgress): Promise<Partial<VolumeProgress> | undefined> {
  const existing = await orUndefined(context.core.readPersistentVolume({ name: volume.newDisk! }));
  if (existing !== undefined) assertVolumeOf(existing, volume.newDisk, context.job.namespace, volume.claim);
  else {
    const source = await context.core.readPersistentVolume({ name: volume.sourcePersistentVolume! });
    assertVolumeOf(source, volume.sourceDisk, context.job.namespace, volume.claim);
    await context.core.createPersistentVolume({ body: persistentVolumeFor(source, volume.newDisk!, volume.zone!, { namespace: context.job.namespace, name: volume.claim }) });
  }
  return volume.newPersistentVolume === undefined ? { newPersistentVolume: volume.newDisk!, state: "pv-created" } : undefined;
}

/** A Released PV keeps its old claim's uid; forgetting it lets a claim of the same name bind again. */
async function freeForClaim(context: MigrationContext, volume: VolumeProgress): Promise<void> {
  const name = volume.sourcePersistentVolume!;
  const claim = volume.claim;
  const pv = await orUndefined(context.core.readPersistentVolume({ name }));
  if (pv !== undefined) assertVolumeOf(pv, volume.sourceDisk, context.job.namespace, claim);
  if (pv?.spec?.claimRef?.uid === undefined) return;
  const bound = await readClaim(context, claim);
  if (bound?.metadata?.uid === pv.spec.claimRef.uid) return;
  await patchPersistentVolume(context, name, { spec: { claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: context.job.namespace, name: claim, uid: null, resourceVersion: null } } });
}

/** Done, or one more bounded look (`type`: the wait's journal condition, one per direction). */
async function waitOrDone(context: MigrationContext, type: string, waits: readonly (string | undefined)[]): Promise<StepOutcome> {
  const pending = waits.filter((wait): wait is string => wait !== undefined);
  if (pending.length === 0) return done;
  const listed = pending.length > 3 ? `${pending.slice(0, 3).join(", ")} and ${pending.length - 3} more` : pending.join(", ");
  return waitWithin(context, { type, limitMs: clusterWaitMs(await readJournal(context)), awaited: listed, overdue: `still waiting for ${listed}`, pollMs: POLL_MS });
}

/** A new disk gets a PV for a claim only if this run made it for that claim (its tags). */
async function assertNewDisksMadeForClaims(context: MigrationContext, volumes: readonly VolumeProgress[]): Promise<void> {
  if (volumes.length === 0) return;
  const journal = await readJournal(context);
  const disks = await context.cloud.describeDisks(volumes.map((volume) => volume.newDisk!));
  for (const volume of volumes) {
    const disk = disks.find((found) => found.diskId === volume.newDisk);
    if (disk !== undefined && !madeByRunFor(context, journal, disk.tags, volume.claim)) throw new ProvenanceError(`disk ${disk.diskId} was not made by this migration for PVC ${volume.claim}`);
  }
}

export const rebind: Step<MigrationContext> = {
  name: "rebind",
  // It fails for good with old PVCs already deleted (a quota or a policy refusing the create):
  // its undo must run then too, or the claims would stay without a disk and the source PVs
  // Released, where nothing may give them their Delete policy back.
  compensateOnFailure: true,
  async run(context): Promise<StepOutcome> {
    await assertAppDown(context, "the rebind");
    const volumes = await movingVolumes(context);
    assertOwnClaims(await readStatefulSet(context), volumes);
    await assertNewDisksMadeForClaims(context, volumes.filter((volume) => volume.newPersistentVolume === undefined));
    // Only while no claim has left its source yet: after that the sources are Released, unattached.
    if (volumes.every((volume) => volume.newPersistentVolume === undefined)) await assertSourcesUntouched(context, volumes);
    const changes = new Map<string, Partial<VolumeProgress>>();
    const waits = await mapLimit(volumes, PARALLEL, async (volume) => {
      const created = await ensureNewVolume(context, volume);
      const waiting = await bindClaimTo(context, volume, volume.newDisk!);
      const change: Partial<VolumeProgress> = { ...created, ...(waiting === undefined && volume.state !== "rebound" ? { state: "rebound" } : {}) };
      if (Object.keys(change).length > 0) changes.set(volume.claim, change);
      return waiting;
    });
    // One journal write for all: parallel writes to one object would mostly conflict.
    await recordVolumes(context, changes);
    return waitOrDone(context, "ClaimsRebinding", waits);
  },
  async compensate(context): Promise<StepOutcome> {
    const volumes = await movingVolumes(context);
    assertOwnClaims(await readStatefulSet(context), volumes);
    const waits = await mapLimit(volumes, PARALLEL, async (volume) => {
      await freeForClaim(context, volume);
      const waiting = await bindClaimTo(context, volume, volume.sourcePersistentVolume!);
      if (waiting !== undefined) return waiting;
      const newPv = volume.newDisk === undefined ? undefined : await orUndefined(context.core.readPersistentVolume({ name: volume.newDisk }));
      if (newPv !== undefined) {
        assertVolumeOf(newPv, volume.newDisk, context.job.namespace, volume.claim);
        // Deleting a PV with Delete deletes its disk too (the provisioner's finalizer); the new
        // disk may be one a pod wrote to, which no rollback deletes.
        await ensureRetained(context, volume.newDisk);
        // Deleted already (pv-protection holds it until the PV is Released): once is enough.
        if (newPv.metadata?.deletionTimestamp === undefined) await context.core.deletePersistentVolume({ name: volume.newDisk! });
      }
      return undefined;
    });
    return waitOrDone(context, "ClaimsRebindingBack", waits);
  },
};
