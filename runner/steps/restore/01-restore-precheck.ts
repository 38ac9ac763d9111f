/**
 * A restore's precheck: the request is still the StatefulSet's and stamped, its replicas are held
 * at 0 (the mutating webhook did it at creation, stamping the replicas Git asks for), and the
 * claims its replicas will use are listed: each one that already exists is left alone (as ACK's
 * backup center does), each missing one is journaled with the name of the snapshot it is made
 * from. The journal is made first, so the StatefulSet shows the restore from the start.
 */
import { OWNED_ANNOTATIONS } from "../../../core/annotations.ts";
import { exportSnapshotName } from "../../../core/cross-account-request.ts";
import { claimName, currentOrdinals } from "../../../core/disk-volumes.ts";
import { sizeDenial } from "../../../core/size-limits.ts";
import type { Workload } from "../../../core/workload/kinds.ts";
import { journalNameOf, type MigrationContext } from "../../context.ts";
import { restoreOf, sharingOf } from "../../cross-account.ts";
import { PermanentMigrationError } from "../../faults.ts";
import { done, type Step, type StepOutcome } from "../../saga/step.ts";
import { orUndefined } from "../../kube-patch.ts";
import { admittedRequest, isOutcome } from "../admitted-request.ts";

export const restorePrecheck: Step<MigrationContext> = {
  name: "precheck",
  async run(context): Promise<StepOutcome> {
    const { job } = context;
    const { exportId } = restoreOf(context);
    const admitted = await admittedRequest(context, "restore");
    if (isOutcome(admitted)) return admitted;
    const { sts, current, journaled } = admitted;
    if (journaled === undefined) await context.journal.ensure({ namespace: job.namespace, statefulSet: sts, migrationId: job.migrationId, targetZones: [], request: current.request });
    sharingOf(context);
    const asked = heldStatefulSet(context, sts);
    const replicas = asked.spec.replicas;
    const templates = (sts.spec?.volumeClaimTemplates ?? []).map((template) => template.metadata?.name ?? "");
    const claims = currentOrdinals(asked).flatMap((ordinal) => templates.map((template) => claimName(template, job.statefulSet, ordinal)));
    const existing = await Promise.all(claims.map(async (claim) => (await orUndefined(context.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: job.namespace }))) !== undefined));
    const missing = claims.filter((_, index) => !existing[index]);
    await context.journal.updateStatus(job.namespace, journalNameOf(context), (status) => {
      status.volumes = missing.map((claim) => ({ claim, snapshotName: exportSnapshotName(job.namespace, claim, exportId), state: "planned" }));
      const kept = claims.length - missing.length;
      if (kept > 0) status.message = `${kept} of ${claims.length} PVC(s) exist already and are left alone`;
    });
    await context.journal.updateSpec(job.namespace, journalNameOf(context), { plan: { ordinals: [] }, originalReplicas: replicas });
    return done;
  },
};

/** The StatefulSet as it will run once released: its replicas those stamped when it was held at 0. */
function heldStatefulSet(context: MigrationContext, sts: Workload): Workload & { spec: { replicas: number } } {
  const { job } = context;
  const replicas = askedReplicas(sts.metadata?.annotations?.[OWNED_ANNOTATIONS.restoreReplicas]);
  const asked = { ...sts, spec: { ...sts.spec!, replicas } };
  const tooLarge = sizeDenial(asked, context.settings.maxReplicas);
  if (tooLarge !== undefined) throw new PermanentMigrationError(tooLarge);
  if ((sts.spec?.replicas ?? 1) !== 0) throw new PermanentMigrationError(`StatefulSet ${job.namespace}/${job.statefulSet} runs ${sts.spec?.replicas ?? 1} replica(s), not the 0 a restore holds it at until its claims are made: its pods may already use claims made empty, so nothing is restored (delete the StatefulSet and its new PVCs, and apply it again)`);
  return asked;
}

function askedReplicas(value: string | undefined): number {
  const replicas = value === undefined || !/^\d+$/.test(value) ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(replicas)) throw new PermanentMigrationError(`${OWNED_ANNOTATIONS.restoreReplicas} is ${JSON.stringify(value ?? null)}, not the replica count the mutating webhook stamps; nothing was restored: delete the StatefulSet and apply it again`);
  return replicas;
}
