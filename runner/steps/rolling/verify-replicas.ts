/**
 * Verify (strategy Rolling): once every replica has moved, the whole set is checked as Recreate's
 * restore does: every replica Ready in its planned zone, then healthy again after health-duration.
 * Nothing to undo: each replica was settled when it came up on its new disks.
 */
import { beginWait } from "../../waits.ts";
import type { MigrationContext } from "../../context.ts";
import type { Step, StepOutcome } from "../../saga/step.ts";
import { replicasSettled } from "../07-restore-replicas.ts";

const VERIFYING = "ReplicasVerifying";

export const verifyReplicas: Step<MigrationContext> = {
  name: "verify",
  async run(context): Promise<StepOutcome> {
    const journal = await beginWait(context, VERIFYING, "checking every replica is Ready in its planned zone");
    return replicasSettled(context, journal, VERIFYING);
  },
};
