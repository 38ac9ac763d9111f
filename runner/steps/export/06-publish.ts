/**
 * Publish the export: a ConfigMap in the StatefulSet's namespace (zoneferry-export-<name>-<export
 * id>) holding the restore annotation to commit to the restore cluster's Git and the mapping a
 * person checks it against (each claim's snapshot name and id, size, category, zone), and the run's
 * message saying the same in one line. Written whole each time (create, or replace what is there),
 * so a run again leaves one and the same ConfigMap.
 */
import { dumpYaml, type V1ConfigMap } from "@kubernetes/client-node";
import { USER_ANNOTATIONS } from "../../../core/annotations.ts";
import { exportConfigMapName } from "../../../core/cross-account-request.ts";
import { journalNameOf, movingVolumes, readJournal, type MigrationContext } from "../../context.ts";
import { exportOf } from "../../cross-account.ts";
import { PermanentMigrationError } from "../../faults.ts";
import { orUndefined } from "../../kube-patch.ts";
import { complete, type Step, type StepOutcome } from "../../saga/step.ts";

export const publish: Step<MigrationContext> = {
  name: "publish",
  async run(context): Promise<StepOutcome> {
    const { job } = context;
    const { accounts } = exportOf(context);
    const journal = await readJournal(context);
    const owner = journal.status?.share?.ownerAccountId;
    if (owner === undefined) throw new PermanentMigrationError(`the share of export ${job.migrationId} names no owning account, so the restore annotation cannot be written`);
    const restoreFrom = `${owner}/${job.migrationId}`;
    const volumes = await movingVolumes(context);
    const mapping = volumes.map((volume) => ({ claim: volume.claim, snapshotName: volume.snapshotName, sourceSnapshotId: volume.snapshot, sizeGiB: volume.sizeGiB, category: volume.category, zone: volume.zone }));
    const name = exportConfigMapName(job.statefulSet, job.migrationId);
    const body: V1ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: job.namespace, labels: { "zoneferry.io/migration-id": job.migrationId, "zoneferry.io/statefulset": job.statefulSet } },
      data: {
        "restore-from": restoreFrom,
        "accounts": accounts.join(","),
        // What to add to the StatefulSet's manifest in the restore cluster's Git.
        "restore-annotations.yaml": dumpYaml({ metadata: { annotations: { [USER_ANNOTATIONS.restoreFrom]: restoreFrom } } }),
        "mapping.yaml": dumpYaml({ exportId: job.migrationId, sourceNamespace: job.namespace, statefulSet: job.statefulSet, share: journal.status?.share, claims: mapping }),
      },
    };
    const existing = await orUndefined(context.core.readNamespacedConfigMap({ name, namespace: job.namespace }));
    if (existing === undefined) await context.core.createNamespacedConfigMap({ namespace: job.namespace, body });
    else await context.core.replaceNamespacedConfigMap({ name, namespace: job.namespace, body: { ...body, metadata: { ...body.metadata, ...(existing.metadata?.resourceVersion === undefined ? {} : { resourceVersion: existing.metadata.resourceVersion }) } } });
    await context.journal.updateStatus(job.namespace, journalNameOf(context), (status) => {
      status.exportConfigMap = name;
    });
    return complete(`exported ${volumes.length} claim(s) as snapshots shared with account(s) ${accounts.join(", ")}; in the restore cluster, create the StatefulSet with ${USER_ANNOTATIONS.restoreFrom}: "${restoreFrom}" (ConfigMap ${name} holds it and the mapping)`);
  },
};
