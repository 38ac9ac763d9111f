/**
 * Keeps ECS's attach state true to the cluster, standing in for the attach/detach controller and
 * the driver's ControllerPublishVolume: a disk is In_use on a node (instance id = node name) while
 * a pod scheduled there and not finished uses a claim bound to the disk's PV, and Available once
 * none does. Only disks attached to this cluster's nodes are ever detached.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { DiskRecord } from "../../core/disk-cloud.ts";
import type { ClusterCache } from "./cluster-cache.ts";
import { AttachConflictError } from "./emulator-attach.ts";
import { isDiskVolume, retryAfterMs, type ProvisionerContext } from "./provisioner-context.ts";

const KEY_PREFIX = "disk/";

/** A disk between states (Creating, Attaching, ...) is looked at again this soon. */
const SETTLING_RECHECK_MS = 250;

/** One step toward the wanted attach state: attach to a node, detach, or look again soon. */
export type AttachAction = { readonly kind: "attach"; readonly node: string } | { readonly kind: "detach" } | { readonly kind: "wait" };

/** disk id → the node whose pods use it, from pods, their claims and the claims' PVs. */
export function desiredAttachments(cache: ClusterCache): Map<string, string> {
  const desired = new Map<string, string>();
  for (const pod of cache.pods()) {
    const node = pod.spec?.nodeName ?? "";
    const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    if (node === "" || finished) continue;
    for (const claimName of claimsOf(pod)) {
      const diskId = diskOfClaim(cache, pod.metadata?.namespace ?? "", claimName);
      // A ReadWriteOnce disk has one node; should two pods disagree, the first one listed keeps it.
      if (diskId !== undefined && !desired.has(diskId)) desired.set(diskId, node);
    }
  }
  return desired;
}

function claimsOf(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((volume) => volume.persistentVolumeClaim?.claimName ?? []);
}

/** The disk behind a claim, once the claim is bound to a disk PV. */
function diskOfClaim(cache: ClusterCache, namespace: string, claimName: string): string | undefined {
  const pv = cache.volume(cache.claim(namespace, claimName)?.spec?.volumeName ?? "");
  return pv !== undefined && isDiskVolume(pv) ? pv.spec!.csi!.volumeHandle : undefined;
}

/** The step from the disk's state toward `wanted` (a node, or undefined for "no node"); undefined when there. */
export function attachAction(disk: DiskRecord, wanted: string | undefined, isClusterNode: (name: string) => boolean): AttachAction | undefined {
  const attachedHere = disk.status === "In_use" && disk.instanceId !== undefined && isClusterNode(disk.instanceId);
  if (wanted === undefined) return attachedHere ? { kind: "detach" } : undefined;
  if (disk.status === "Available") return { kind: "attach", node: wanted };
  if (disk.status === "In_use") {
    // Moved to another node: detach now, attach on the next look. A foreign instance is left alone.
    return attachedHere && disk.instanceId !== wanted ? { kind: "detach" } : undefined;
  }
  return { kind: "wait" };
}

/** One pass: reads every disk behind a disk PV once, then closes each gap. */
export async function syncAttachments(context: ProvisionerContext): Promise<void> {
  const diskIds = [...new Set(context.cache.volumes().filter(isDiskVolume).map((pv) => pv.spec!.csi!.volumeHandle))];
  context.backoff.retainOnly(new Set(diskIds.map((id) => `${KEY_PREFIX}${id}`)), KEY_PREFIX);
  if (diskIds.length === 0) return;
  let disks: readonly DiskRecord[];
  try {
    disks = await context.cloud.describeDisks(diskIds);
  } catch (error) {
    // Nothing changed yet; the next pass (resync at the latest) reads again.
    context.logger.warn({ err: error }, "could not read the disks' attach state");
    return;
  }
  const desired = desiredAttachments(context.cache);
  const isClusterNode = (name: string): boolean => context.cache.node(name) !== undefined;
  await Promise.all(
    disks.map((disk) => {
      const action = attachAction(disk, desired.get(disk.diskId), isClusterNode);
      const key = `${KEY_PREFIX}${disk.diskId}`;
      return action === undefined || !context.backoff.isDue(key) ? Promise.resolve() : apply(context, disk, action, key);
    }),
  );
}

async function apply(context: ProvisionerContext, disk: DiskRecord, action: AttachAction, key: string): Promise<void> {
  const log = context.logger.child({ disk: disk.diskId });
  try {
    if (action.kind === "wait") {
      context.backoff.recheckIn(key, SETTLING_RECHECK_MS);
      return;
    }
    if (action.kind === "attach") {
      await context.attachments.attach(disk.diskId, action.node);
      log.info({ node: action.node }, "attached the disk");
      context.backoff.succeeded(key);
      return;
    }
    await context.attachments.detach(disk.diskId);
    log.info({ node: disk.instanceId }, "detached the disk");
    context.backoff.succeeded(key);
    // When it moves to another node, attach there without waiting for the resync.
    context.backoff.recheckIn(key, 0);
  } catch (error) {
    if (error instanceof AttachConflictError) {
      // The disk changed state since it was read (another provisioner, a test): read it again soon.
      log.debug({ reason: error.message }, "attach state changed under us");
      context.backoff.recheckIn(key, SETTLING_RECHECK_MS);
      return;
    }
    const delayMs = context.backoff.failed(key, retryAfterMs(error));
    log.warn({ err: error, retryInMs: delayMs }, "changing the disk's attach state failed; retrying later");
  }
}
