/**
 * Deletion, as external-provisioner does it for the driver: a disk PV whose claim is gone
 * (Released) with reclaim policy Delete loses its disk, then the PV itself. Retain PVs keep theirs.
 * The provisioner's finalizer on Delete PVs makes a direct `kubectl delete pv` wait for the disk
 * too, and is taken off a PV switched to Retain (so deleting that one never touches its disk).
 */
import type { V1PersistentVolume } from "@kubernetes/client-node";
import { tolerating } from "../../core/kube/api-status.ts";
import { PROVISIONER_FINALIZER } from "./csi-names.ts";
import { isDiskVolume, retryAfterMs, type ProvisionerContext } from "./provisioner-context.ts";

const KEY_PREFIX = "volume/";

/** How often to look again at a disk ECS cannot delete yet (attached, still creating). */
const BUSY_RECHECK_MS = 500;

type Reclaim = "delete-disk" | "drop-finalizer";

/** What the PV needs from the provisioner now, if anything. */
export function reclaimNeeded(pv: V1PersistentVolume): Reclaim | undefined {
  const finalized = (pv.metadata?.finalizers ?? []).includes(PROVISIONER_FINALIZER);
  if (pv.spec?.persistentVolumeReclaimPolicy !== "Delete") return finalized ? "drop-finalizer" : undefined;
  const phase = pv.status?.phase;
  // Deleted directly: wait until no claim holds it (pv-protection lets it go only then as well).
  const deletedUnbound = pv.metadata?.deletionTimestamp !== undefined && phase !== "Bound";
  return phase === "Released" || deletedUnbound ? "delete-disk" : undefined;
}

/** One pass: every disk PV that is due for deletion or a finalizer change. */
export async function reclaimVolumes(context: ProvisionerContext): Promise<void> {
  const work = context.cache.volumes().flatMap((pv) => {
    const action = isDiskVolume(pv) ? reclaimNeeded(pv) : undefined;
    return action === undefined ? [] : [{ pv, action, key: `${KEY_PREFIX}${pv.metadata?.name ?? ""}` }];
  });
  context.backoff.retainOnly(new Set(work.map((item) => item.key)), KEY_PREFIX);
  await Promise.all(work.filter((item) => context.backoff.isDue(item.key)).map((item) => reclaimOne(context, item.pv, item.action, item.key)));
}

async function reclaimOne(context: ProvisionerContext, pv: V1PersistentVolume, action: Reclaim, key: string): Promise<void> {
  const name = pv.metadata?.name ?? "";
  const log = context.logger.child({ volume: name });
  try {
    if (action === "delete-disk") {
      const gone = await deleteDisk(context, pv);
      if (!gone) {
        context.backoff.recheckIn(key, BUSY_RECHECK_MS);
        return;
      }
      // The PV goes once its disk has: deleting it first would lose the only record of the disk.
      if (pv.metadata?.deletionTimestamp === undefined) await tolerating(404, () => context.core.deletePersistentVolume({ name }));
      log.info({ disk: pv.spec?.csi?.volumeHandle }, "deleted the disk of a released volume, and the volume");
    }
    await dropFinalizer(context, name);
    context.backoff.succeeded(key);
  } catch (error) {
    const delayMs = context.backoff.failed(key, retryAfterMs(error));
    log.warn({ err: error, retryInMs: delayMs }, "reclaiming the volume failed; retrying later");
  }
}

/** Deletes the PV's disk when ECS allows it; resolves false while it is attached or still being created. */
async function deleteDisk(context: ProvisionerContext, pv: V1PersistentVolume): Promise<boolean> {
  const diskId = pv.spec?.csi?.volumeHandle ?? "";
  const [disk] = await context.cloud.describeDisks([diskId]);
  if (disk === undefined) return true;
  // In_use: the attachment sync detaches it once no pod uses it; ECS refuses to delete before.
  if (disk.status !== "Available") {
    context.logger.debug({ disk: diskId, status: disk.status }, "the disk cannot be deleted yet");
    return false;
  }
  // Transient refusals (IncorrectDiskStatus.Initializing, throttling) throw and are retried.
  await context.cloud.deleteDisk(diskId);
  return true;
}

/** Takes the provisioner's finalizer off the PV, read fresh (a conflict is retried by the caller). */
async function dropFinalizer(context: ProvisionerContext, name: string): Promise<void> {
  const current = await tolerating(404, () => context.core.readPersistentVolume({ name }));
  const finalizers = current?.metadata?.finalizers ?? [];
  if (current === undefined || !finalizers.includes(PROVISIONER_FINALIZER)) return;
  const body = { ...current, metadata: { ...current.metadata, finalizers: finalizers.filter((finalizer) => finalizer !== PROVISIONER_FINALIZER) } };
  // Replace carries the resourceVersion just read: a concurrent writer makes this fail, not vanish.
  await tolerating(404, () => context.core.replacePersistentVolume({ name, body }));
}
