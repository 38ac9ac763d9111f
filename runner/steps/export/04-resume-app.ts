/**
 * Resume the app once every snapshot is Available (instant access: each holds what its disk held
 * when it was taken, while the app was down): scale back to the original replicas and wait, at
 * most ready-timeout, until every one is Ready. The app is down only while the snapshots are
 * taken; sharing and publishing happen while it runs again.
 */
import { readJournal, type MigrationContext } from "../../context.ts";
import { scaleTo } from "../../replicas.ts";
import type { Step, StepOutcome } from "../../saga/step.ts";
import { beginWait } from "../../waits.ts";
import { replicasSettled } from "../07-restore-replicas.ts";

const RESUMING = "ReplicasResuming";

export const resumeApp: Step<MigrationContext> = {
  name: "resume-app",
  async run(context): Promise<StepOutcome> {
    const journal = await readJournal(context);
    await scaleTo(context, journal.spec.originalReplicas ?? 1);
    return replicasSettled(context, await beginWait(context, RESUMING, "waiting for the replicas to be Ready again after the snapshots"), RESUMING);
  },
};
