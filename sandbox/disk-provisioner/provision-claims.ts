/**
 * Provisioning, as external-provisioner and the disk CSI driver do it together: a claim the
 * scheduler has placed (selected-node) and the PV controller has handed to the driver gets a disk
 * in the zone of the chosen node and a PV pre-bound to it; the PV controller then binds the claim
 * and the scheduler binds the pod. Every step first looks for what an earlier attempt (or another
 * provisioner) already made: a PV pre-bound to the claim, a disk tagged with its volume name; and
 * CreateDisk carries a token derived from the claim, so the cloud makes one disk whatever happens.
 */
import type { V1Node, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import type { DiskRecord } from "../../core/disk-cloud.ts";
import { DISK_CSI_DRIVER, DISK_ZONE_KEY, ZONE_KEY } from "../../core/disk-volumes.ts";
import { tolerating } from "../../core/kube/api-status.ts";
import type { ClusterCache } from "./cluster-cache.ts";
import {
  BETA_STORAGE_PROVISIONER_ANNOTATION,
  DRIVER_DISK_TAGS,
  SELECTED_NODE_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION,
  VOLUME_NAME_TAG,
} from "./csi-names.ts";
import { chooseCategory, diskSizeGiB, performanceLevelFor, wantedCategories } from "./disk-shape.ts";
import { buildPersistentVolume, requestedVolumeName, type ProvisionedDisk } from "./persistent-volume.ts";
import { messageOf, retryAfterMs, type ProvisionerContext } from "./provisioner-context.ts";
import { snapshotNameOf, snapshotSource } from "./snapshot-sources.ts";

const KEY_PREFIX = "claim/";

/** A claim waiting for this driver, with what provisioning it needs. */
export interface PendingClaim {
  readonly key: string;
  readonly uid: string;
  readonly claim: V1PersistentVolumeClaim;
  readonly storageClass: V1StorageClass;
  readonly nodeName: string;
}

/** The zone does not sell any category the class allows; it may later (stock, configuration). */
export class NoCategoryInZoneError extends Error {
  constructor(zone: string, wanted: readonly string[]) {
    super(`zone ${zone} sells none of the disk categories ${wanted.join(", ")}`);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** The claim, when it waits for this driver to provision it. */
export function pendingClaim(claim: V1PersistentVolumeClaim, cache: ClusterCache): PendingClaim | undefined {
  const uid = claim.metadata?.uid ?? "";
  const annotations = claim.metadata?.annotations ?? {};
  const nodeName = annotations[SELECTED_NODE_ANNOTATION] ?? "";
  const handedTo = annotations[STORAGE_PROVISIONER_ANNOTATION] ?? annotations[BETA_STORAGE_PROVISIONER_ANNOTATION];
  const bound = (claim.spec?.volumeName ?? "") !== "";
  if (uid === "" || bound || claim.metadata?.deletionTimestamp !== undefined || nodeName === "" || handedTo !== DISK_CSI_DRIVER) return undefined;
  const storageClass = cache.storageClass(claim.spec?.storageClassName ?? "");
  if (storageClass?.provisioner !== DISK_CSI_DRIVER) return undefined;
  return { key: `${KEY_PREFIX}${uid}`, uid, claim, storageClass, nodeName };
}

/** One pass: every pending claim that is not waiting out a backoff. */
export async function provisionClaims(context: ProvisionerContext): Promise<void> {
  const pending = context.cache.claims().flatMap((claim) => pendingClaim(claim, context.cache) ?? []);
  context.backoff.retainOnly(new Set(pending.map((item) => item.key)), KEY_PREFIX);
  await Promise.all(pending.filter((item) => context.backoff.isDue(item.key)).map((item) => provisionOne(context, item)));
}

async function provisionOne(context: ProvisionerContext, pending: PendingClaim): Promise<void> {
  const { claim, storageClass } = pending;
  const log = context.logger.child({ claim: `${claim.metadata?.namespace ?? ""}/${claim.metadata?.name ?? ""}`, node: pending.nodeName });
  try {
    const created = await ensureVolume(context, pending);
    context.backoff.succeeded(pending.key);
    if (created === undefined) return;
    log.info({ volume: created.diskId, zone: created.zoneId, category: created.category, sizeGiB: created.sizeGiB }, "provisioned a disk and its PV");
    await context.events.record(claim, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${created.diskId}`);
  } catch (error) {
    const delayMs = context.backoff.failed(pending.key, retryAfterMs(error));
    log.warn({ err: error, retryInMs: delayMs }, "provisioning failed; retrying later");
    const message = `failed to provision volume with StorageClass "${storageClass.metadata?.name ?? ""}": ${messageOf(error)}`;
    await context.events.record(claim, "Warning", "ProvisioningFailed", message);
  }
}

/** The disk and PV of the claim; resolves with the disk when this call wrote the PV. */
async function ensureVolume(context: ProvisionerContext, pending: PendingClaim): Promise<ProvisionedDisk | undefined> {
  // Pre-bound to this very claim (by uid): made by an earlier pass, the PV controller binds it.
  if (context.cache.volumes().some((pv) => pv.spec?.claimRef?.uid === pending.uid)) return undefined;
  const disk = await findOrCreateDisk(context, pending);
  const pv = buildPersistentVolume(pending.claim, pending.storageClass, disk, context.identity);
  // AlreadyExists: an earlier pass wrote it and the cache has not caught up.
  const created = await tolerating(409, () => context.core.createPersistentVolume({ body: pv }));
  return created === undefined ? undefined : disk;
}

async function findOrCreateDisk(context: ProvisionerContext, pending: PendingClaim): Promise<ProvisionedDisk> {
  const volumeName = requestedVolumeName(pending.uid);
  const [found] = await context.cloud.findDisksByTags({ [VOLUME_NAME_TAG]: volumeName });
  if (found !== undefined) return provisionedDisk(found);
  const zone = nodeZone(context.cache.node(pending.nodeName));
  if (zone === undefined) throw new Error(`the selected node ${pending.nodeName} is unknown or has no zone label`);
  const parameters = pending.storageClass.parameters;
  const wanted = wantedCategories(parameters);
  const category = chooseCategory(wanted, await context.cloud.availableDiskCategories(zone));
  if (category === undefined) throw new NoCategoryInZoneError(zone, wanted);
  const performanceLevel = performanceLevelFor(category, parameters);
  // A claim restored from a VolumeSnapshot: the disk is made from its snapshot, never smaller.
  const snapshotName = snapshotNameOf(pending.claim);
  const source = snapshotName === undefined ? undefined : await snapshotSource(context, pending.claim, snapshotName);
  const sizeGiB = Math.max(diskSizeGiB(pending.claim.spec?.resources?.requests?.["storage"], category, performanceLevel), source?.sizeGiB ?? 0);
  const diskId = await context.cloud.createDisk({
    zoneId: zone,
    category,
    ...(performanceLevel === undefined ? {} : { performanceLevel }),
    ...(source === undefined ? {} : { snapshotId: source.snapshotId }),
    sizeGiB,
    name: volumeName,
    tags: { ...DRIVER_DISK_TAGS, [VOLUME_NAME_TAG]: volumeName },
    // ≤ 64 ASCII, the same on every attempt for this claim: a retry gets the first disk back.
    clientToken: `zoneferry-provision-${pending.uid}`,
  });
  return { diskId, zoneId: zone, category, performanceLevel, sizeGiB };
}

/** A disk found by its tag, read as the PV needs it (an ESSD that states no level is PL1). */
function provisionedDisk(record: DiskRecord): ProvisionedDisk {
  const level = record.performanceLevel === undefined ? undefined : { performanceLevel: record.performanceLevel };
  return {
    diskId: record.diskId,
    zoneId: record.zoneId,
    category: record.category,
    performanceLevel: performanceLevelFor(record.category, level),
    sizeGiB: record.sizeGiB,
  };
}

/** The zone a node is in: the driver's own topology label first, as its NodeGetInfo reports it. */
export function nodeZone(node: V1Node | undefined): string | undefined {
  const labels = node?.metadata?.labels ?? {};
  return labels[DISK_ZONE_KEY] ?? labels[ZONE_KEY];
}
