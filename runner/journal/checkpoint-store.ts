/**
 * The saga's checkpoint kept in the journal's status (contract §3: the journal is the durable
 * truth; BullMQ carries the work). Before precheck has made the journal there is nothing to keep:
 * precheck has no side effect but the journal itself. A finished journal belongs to an earlier run
 * of the same request (moved away and back): it is not resumed from, and not written.
 */
import { tolerating } from "../../core/kube/api-status.ts";
import { journalNameOf, type MigrationContext } from "../context.ts";
import { checkpointMovedOn, endWaits } from "./conditions.ts";
import { INITIAL_CHECKPOINT, durable } from "../saga/checkpoint.ts";
import type { CheckpointStore } from "../saga/run-saga.ts";

export function journalCheckpointStore(context: MigrationContext): CheckpointStore {
  const { namespace } = context.job;
  const name = journalNameOf(context);
  return {
    async load() {
      const journal = await context.journal.read(namespace, name);
      if (journal?.status?.finishedAt !== undefined) return undefined;
      // Until precheck has planned, nothing but precheck can have run: a job's checkpoint claiming
      // more (edited in Redis) is not believed, and the run starts at precheck.
      return journal?.spec.plan === undefined ? durable(INITIAL_CHECKPOINT) : journal.status?.checkpoint;
    },
    async save(checkpoint) {
      // One read-modify-write; no journal (404) means precheck has not made it yet.
      await tolerating(404, () => context.journal.updateStatus(namespace, name, (status) => {
        if (status.finishedAt !== undefined) return;
        // The step the saga was in has passed (or failed): the waits it journaled have ended.
        if (checkpointMovedOn(status.checkpoint, checkpoint)) endWaits(status);
        status.checkpoint = checkpoint;
      }));
    },
  };
}
