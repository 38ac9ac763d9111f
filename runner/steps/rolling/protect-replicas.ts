/**
 * Protect, for strategy Rolling: as Recreate's (runner/steps/02-protect.ts), with an undo that
 * knows some replicas may have moved for good before a later one failed. A moved claim's new PV
 * gets its original reclaim policy back (it is Bound, the data's home now), and its source disk
 * and PV stay on Retain, named in the result with the ordinal and zone, for a human to delete
 * once they are no longer wanted: the migration did not finish, so no source is deleted.
 */
import { readJournal, type MigrationContext } from "../../context.ts";
import { claimBoundTo } from "../../bindings.ts";
import { PermanentMigrationError } from "../../faults.ts";
import { restorePolicies } from "../../reclaim-policies.ts";
import { doneKeeping, type Step, type StepOutcome } from "../../saga/step.ts";
import { protect } from "../02-protect.ts";

export const protectReplicas: Step<MigrationContext> = {
  ...protect,
  async compensate(context): Promise<StepOutcome> {
    const journal = await readJournal(context);
    const volumes = journal.status?.volumes ?? [];
    const moved = new Set<string>();
    for (const volume of volumes) {
      if (volume.newPersistentVolume !== undefined && (await claimBoundTo(context, volume.claim, volume.newPersistentVolume))) moved.add(volume.claim);
    }
    const kept = await restorePolicies(context, (volume) => (moved.has(volume.claim) ? volume.newPersistentVolume : volume.sourcePersistentVolume));
    if (kept.length > 0) throw new PermanentMigrationError(kept.join("; "));
    const stays = (journal.status?.replicas ?? []).filter((replica) => replica.claims.some((claim) => moved.has(claim))).map((replica) => {
      const sources = volumes.filter((volume) => replica.claims.includes(volume.claim) && moved.has(volume.claim)).map((volume) => `${volume.sourceDisk ?? "?"} (PV ${volume.sourcePersistentVolume ?? "?"})`);
      return `replica ${replica.ordinal} stays moved to ${replica.zone}; its source disk(s) ${sources.join(", ")} kept on Retain, delete them once you no longer need them`;
    });
    return doneKeeping(stays.length === 0 ? undefined : stays.join("; "));
  },
};
