/**
 * Release the replicas: scale the StatefulSet to the replicas Git asks for (stamped when it was
 * held at 0) and wait, at most ready-timeout, until every one is Ready on its restored claims. The
 * point of no return: once a pod may have written to a restored claim nothing is undone, so a
 * replica that does not come up is reported, not rolled back.
 */
import { restoreOf } from "../../cross-account.ts";
import { movingVolumes, readJournal, type MigrationContext } from "../../context.ts";
import { scaleTo } from "../../replicas.ts";
import { complete, type Step, type StepOutcome } from "../../saga/step.ts";
import { beginWait } from "../../waits.ts";
import { replicasSettled } from "../07-restore-replicas.ts";

const RELEASING = "ReplicasReleasing";

export const releaseReplicas: Step<MigrationContext> = {
  name: "release-replicas",
  pastPointOfNoReturn: true,
  async run(context): Promise<StepOutcome> {
    const { sourceAccount, exportId } = restoreOf(context);
    const journal = await readJournal(context);
    await scaleTo(context, journal.spec.originalReplicas ?? 1);
    const settled = await replicasSettled(context, await beginWait(context, RELEASING, "waiting for the replicas to be Ready on their restored claims"), RELEASING);
    if (settled.kind !== "done") return settled;
    const restored = (await movingVolumes(context)).length;
    const kept = journal.status?.message?.includes("left alone") === true ? ` (${journal.status.message})` : "";
    return complete(`restored ${restored} PVC(s) from export ${exportId} of account ${sourceAccount}${kept}; ${journal.spec.originalReplicas ?? 1} replica(s) Ready`);
  },
};
