/**
 * The opening every precheck (a move's, an export's, a restore's) shares: a precheck already done
 * is done; otherwise the request must still be the live StatefulSet's, carry the mutating
 * webhook's stamp, and be of a kind this zoneferry is set up for. Answers what the precheck works
 * from, or the outcome that ends it with nothing done.
 */
import type { Workload } from "../../core/workload/kinds.ts";
import { currentRequest, type CurrentRequest } from "../../core/migration-id.ts";
import { journalNameOf, readStatefulSet, type MigrationContext } from "../context.ts";
import type { ZoneMigrationResource } from "../journal/types.ts";
import { orUndefined } from "../kube-patch.ts";
import { carriesMigration } from "../ownership.ts";
import { complete, done, type StepOutcome } from "../saga/step.ts";
import { KRUISE } from "../../core/workload/kinds.ts";
import { PermanentMigrationError } from "../faults.ts";

export interface AdmittedRequest {
  readonly sts: Workload;
  readonly current: CurrentRequest;
  /** The journal, if an earlier run of the precheck made it. */
  readonly journaled: ZoneMigrationResource | undefined;
}

/** `what`: the word for what would be done, in the messages ("migrate", "export", "restore"). */
export async function admittedRequest(context: MigrationContext, what: string): Promise<AdmittedRequest | StepOutcome> {
  const { job } = context;
  const journaled = await context.journal.read(job.namespace, journalNameOf(context));
  if (journaled?.spec.plan !== undefined && journaled.status?.finishedAt === undefined) return done;
  assertKindEnabled(context);
  const sts = await orUndefined(readStatefulSet(context));
  if (sts === undefined) return complete(`StatefulSet ${job.namespace}/${job.statefulSet} no longer exists; nothing to ${what}`);
  const current = currentRequest(job.namespace, job.statefulSet, sts.metadata?.annotations ?? {});
  if (current?.migrationId !== job.migrationId) return complete(`request ${job.migrationId} is no longer the StatefulSet's request; nothing done`);
  // Unstamped, the StatefulSet is not the runner's to write (runner/ownership.ts): the webhook warned.
  if (!carriesMigration(sts, job)) return complete(`request ${job.migrationId} was admitted without zoneferry.io/migration-id (the mutating webhook did not answer); nothing done: apply it again with a new zoneferry.io/retry value`);
  return { sts, current, journaled };
}

export function isOutcome(value: AdmittedRequest | StepOutcome): value is StepOutcome {
  return "kind" in value;
}

/** Off, the chart neither routes nor grants Advanced StatefulSets: a job for one is not acted on. */
function assertKindEnabled(context: MigrationContext): void {
  if (context.workload.kind !== KRUISE || context.settings.kruise) return;
  throw new PermanentMigrationError(`StatefulSet ${context.job.namespace}/${context.job.statefulSet} is an OpenKruise Advanced StatefulSet and this zoneferry is not set up for them (workloads.kruise, WORKLOADS_KRUISE=false): nothing was changed`);
}
