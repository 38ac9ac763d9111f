/**
 * Precheck: the request is still the StatefulSet's (admission does not guarantee storage), all
 * replicas are Ready, every admission check passes again on the live cluster and ECS; then the
 * plan is computed and journaled. Nothing to move ends the migration Succeeded.
 */
import { assessMigration } from "../../core/assess-migration.ts";
import { migrationId } from "../../core/migration-id.ts";
import { parseMigrationRequest } from "../../core/migration-request.ts";
import { journalNameOf, readStatefulSet, type MigrationContext } from "../context.ts";
import { directDiskLookup } from "../direct-disk-lookup.ts";
import { PermanentMigrationError } from "../faults.ts";
import { orUndefined } from "../kube-patch.ts";
import { liveClusterView } from "../live-view.ts";
import { complete, done, waitAndRecheck, type Step, type StepOutcome } from "../saga/step.ts";

export const precheck: Step<MigrationContext> = {
  name: "precheck",
  async run(context): Promise<StepOutcome> {
    const { job } = context;
    const journaled = await context.journal.read(job.namespace, journalNameOf(context));
    if (journaled?.status?.finishedAt !== undefined) {
      // A finished run of the same request (the user moved away and back again): plan afresh.
      await context.journal.remove(job.namespace, journalNameOf(context));
    } else if (journaled?.spec.plan !== undefined) {
      return done;
    }
    const sts = await orUndefined(readStatefulSet(context));
    if (sts === undefined) return complete(`StatefulSet ${job.namespace}/${job.statefulSet} no longer exists; nothing to migrate`);
    const parsed = parseMigrationRequest(sts.metadata?.annotations ?? {});
    const current = parsed.ok ? migrationId({ namespace: job.namespace, name: job.statefulSet, targetZones: parsed.request.targetZones, retry: parsed.request.retry }) : undefined;
    if (!parsed.ok || current !== job.migrationId) return complete(`request ${job.migrationId} is no longer the StatefulSet's request; nothing done`);
    const replicas = sts.spec?.replicas ?? 1;
    if ((sts.status?.readyReplicas ?? 0) < replicas) return waitAndRecheck(parsed.request.checkIntervalMs, "waiting until every replica is Ready");
    const view = await liveClusterView(context.kubeconfig, job.namespace);
    const assessment = await assessMigration(sts, parsed.request, view, directDiskLookup(context.cloud));
    if (assessment.denials.length > 0) throw new PermanentMigrationError(assessment.denials.join("; "));
    if (assessment.plan.moves.length === 0) return complete(`nothing to migrate: all ${assessment.disks.length} disks already in target zones`);
    const plan = { ordinals: assessment.plan.ordinals.map((ordinal) => ({ ordinal: ordinal.ordinal, zone: ordinal.zone, volumes: ordinal.volumes.map((volume) => ({ ...volume })) })) };
    await context.journal.ensure({ namespace: job.namespace, statefulSet: sts, migrationId: job.migrationId, targetZones: job.targetZones, request: parsed.request });
    const diskOf = new Map(assessment.disks.map((disk) => [disk.claim, disk]));
    await context.journal.updateStatus(job.namespace, journalNameOf(context), (status) => {
      status.volumes = assessment.plan.moves.map((move) => ({
        claim: move.claim,
        sourceDisk: diskOf.get(move.claim)!.diskId,
        sourcePersistentVolume: diskOf.get(move.claim)!.persistentVolume,
        zone: move.toZone,
        state: "planned",
      }));
    });
    // The plan last: its presence tells a re-run that the precheck is complete.
    await context.journal.updateSpec(job.namespace, journalNameOf(context), { plan, originalReplicas: replicas });
    return done;
  },
};
