/**
 * What the runner acts on is re-derived from the live objects before each side effect, never taken
 * from the journal's word alone: a journal is the runner's own (sealed, runner/journal/seal.ts), but
 * its status may have been edited by anyone the API server let write it. Each id must chain back
 * to the StatefulSet's own claims:
 *   - a claim is `<template>-<statefulset>-<ordinal>` of one of the StatefulSet's claim templates,
 *     in the job's namespace;
 *   - a source PV is a volume of the Alibaba disk CSI driver whose volumeHandle is the source disk
 *     and whose claimRef names that claim (and, before the rebind, the claim is Bound to it);
 *   - a snapshot was made by this run (its tags) of that source disk for that claim;
 *   - a new disk was made by this run for that claim (its tags), and its PV names both.
 * Anything else is refused with a message, before anything is touched (docs/security.md).
 */
import type { V1PersistentVolume, V1StatefulSet } from "@kubernetes/client-node";
import type { SnapshotRecord } from "../core/disk-cloud.ts";
import { DISK_CSI_DRIVER, claimOfTemplate } from "../core/disk-volumes.ts";
import { claimOfTags, runId, type MigrationContext } from "./context.ts";
import { PermanentMigrationError } from "./faults.ts";
import type { VolumeProgress, ZoneMigrationResource } from "./journal/types.ts";

/** Something in the journal does not chain back to the StatefulSet's own claims. */
export class ProvenanceError extends PermanentMigrationError {
  constructor(reason: string) {
    super(`refusing to act: ${reason}; the journal does not chain back to the StatefulSet's own claims (was it edited?)`);
    this.name = "ProvenanceError";
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Whether `claim` is a claim of one of the live StatefulSet's claim templates. */
export function ownClaim(sts: V1StatefulSet, claim: string): boolean {
  return (sts.spec?.volumeClaimTemplates ?? []).some((template) => claimOfTemplate(template.metadata?.name ?? "", sts.metadata?.name ?? "", claim));
}

/** Refuses volumes whose claims are not the live StatefulSet's own. */
export function assertOwnClaims(sts: V1StatefulSet, volumes: readonly VolumeProgress[]): void {
  const foreign = volumes.filter((volume) => !ownClaim(sts, volume.claim)).map((volume) => volume.claim);
  if (foreign.length > 0) throw new ProvenanceError(`PVC(s) ${foreign.join(", ")} are not claims of StatefulSet ${sts.metadata?.namespace ?? ""}/${sts.metadata?.name ?? ""}'s templates`);
}

/** Why `pv` is not the disk CSI volume of `diskId` for `namespace`/`claim`; undefined when it is. */
export function volumeMismatch(pv: V1PersistentVolume, diskId: string | undefined, namespace: string, claim: string): string | undefined {
  const name = pv.metadata?.name ?? "?";
  const csi = pv.spec?.csi;
  if (csi?.driver !== DISK_CSI_DRIVER) return `PV ${name} is not a volume of ${DISK_CSI_DRIVER}`;
  if (diskId === undefined || csi.volumeHandle !== diskId) return `PV ${name} holds disk ${csi.volumeHandle}, not ${diskId ?? "?"}`;
  const ref = pv.spec?.claimRef;
  if (ref?.namespace !== namespace || ref.name !== claim) return `PV ${name} belongs to ${ref === undefined ? "no claim" : `PVC ${ref.namespace ?? "?"}/${ref.name ?? "?"}`}, not ${namespace}/${claim}`;
  return undefined;
}

export function assertVolumeOf(pv: V1PersistentVolume, diskId: string | undefined, namespace: string, claim: string): void {
  const mismatch = volumeMismatch(pv, diskId, namespace, claim);
  if (mismatch !== undefined) throw new ProvenanceError(mismatch);
}

/** Whether `tags` say this run made the resource for `claim`. */
export function madeByRunFor(context: MigrationContext, journal: ZoneMigrationResource, tags: Readonly<Record<string, string>>, claim: string): boolean {
  return tags["zoneferry.io/migration-id"] === context.job.migrationId && tags["zoneferry.io/run"] === runId(journal) && claimOfTags(context, tags) === claim;
}

/** Why `snapshot` is not this run's snapshot of the volume's source disk; undefined when it is. */
export function snapshotMismatch(context: MigrationContext, journal: ZoneMigrationResource, snapshot: SnapshotRecord, volume: VolumeProgress): string | undefined {
  if (snapshot.sourceDiskId !== volume.sourceDisk) return `snapshot ${snapshot.snapshotId} is of disk ${snapshot.sourceDiskId}, not of PVC ${volume.claim}'s source disk ${volume.sourceDisk ?? "?"}`;
  if (!madeByRunFor(context, journal, snapshot.tags, volume.claim)) return `snapshot ${snapshot.snapshotId} was not made by this migration for PVC ${volume.claim}`;
  return undefined;
}
