/**
 * An export's precheck: the request is still the StatefulSet's and stamped, every replica is Ready
 * (waited for at most ready-timeout, as a move's), and the export's checks (core/assess-export.ts)
 * pass on the live cluster and a fresh ECS answer; then each claim's disk, the snapshot name it
 * will carry, its size and category are journaled. The journal is made before anything waits.
 */
import { assessExport } from "../../../core/assess-export.ts";
import { listWithin } from "../../../core/bounded-text.ts";
import { exportSnapshotName } from "../../../core/cross-account-request.ts";
import { unshareableBecause } from "../../../core/shareable.ts";
import { journalNameOf, type MigrationContext } from "../../context.ts";
import { sharingOf } from "../../cross-account.ts";
import { directDiskLookup } from "../../direct-disk-lookup.ts";
import { PermanentMigrationError } from "../../faults.ts";
import { liveClusterView } from "../../live-view.ts";
import { done, type Step, type StepOutcome } from "../../saga/step.ts";
import { unsettledReplicas, waitForReplicas } from "../01-precheck.ts";
import { admittedRequest, isOutcome } from "../admitted-request.ts";

export const exportPrecheck: Step<MigrationContext> = {
  name: "precheck",
  async run(context): Promise<StepOutcome> {
    const { job } = context;
    const admitted = await admittedRequest(context, "export");
    if (isOutcome(admitted)) return admitted;
    const { sts, current, journaled } = admitted;
    if (journaled === undefined) await context.journal.ensure({ namespace: job.namespace, statefulSet: sts, migrationId: job.migrationId, targetZones: [], request: current.request });
    sharingOf(context);
    const view = await liveClusterView(context.kubeconfig, job.namespace, context.settings.kruise);
    const lookup = directDiskLookup(context.cloud);
    // What cannot change by waiting is told at once, before the wait for the replicas.
    const assessment = await assessExport(sts, { exportId: job.migrationId, view, cloud: lookup, maxReplicas: context.settings.maxReplicas });
    if (assessment.denials.length > 0) throw new PermanentMigrationError(`${listWithin(assessment.denials, undefined, "; ")}; nothing was changed`);
    const unsettled = await unsettledReplicas(context, sts);
    if (unsettled !== undefined) return waitForReplicas(context, current.request, unsettled);
    const records = new Map((await context.cloud.describeDisks(assessment.disks.map((disk) => disk.diskId))).map((disk) => [disk.diskId, disk]));
    const missing = assessment.disks.filter((disk) => !records.has(disk.diskId));
    if (missing.length > 0) throw new PermanentMigrationError(`ECS does not know disk(s) ${missing.map((disk) => `${disk.diskId} of PVC ${disk.claim}`).join(", ")}; nothing was changed`);
    const unshareable = assessment.disks.flatMap((disk) => unshareableBecause(records.get(disk.diskId)!, context.settings.serviceKeyId) ?? []);
    if (unshareable.length > 0) throw new PermanentMigrationError(`${unshareable.join("; ")}; nothing was changed`);
    await context.journal.updateStatus(job.namespace, journalNameOf(context), (status) => {
      status.volumes = assessment.disks.map((disk) => {
        const record = records.get(disk.diskId)!;
        return { claim: disk.claim, sourceDisk: disk.diskId, sourcePersistentVolume: disk.persistentVolume, zone: record.zoneId, category: record.category, sizeGiB: record.sizeGiB, snapshotName: exportSnapshotName(job.namespace, disk.claim, job.migrationId), state: "planned" };
      });
    });
    // An empty plan last: its presence tells a re-run (and the worker) that the precheck is complete.
    await context.journal.updateSpec(job.namespace, journalNameOf(context), { plan: { ordinals: [] }, originalReplicas: sts.spec?.replicas ?? 1 });
    return done;
  },
};
