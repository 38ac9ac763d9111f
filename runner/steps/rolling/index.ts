/**
 * The steps of a Rolling migration (contract §6): precheck and protect as Recreate's; then, for
 * each ordinal whose disks move, highest first (OrderedReady re-creates pods in order, so a held
 * pod must never sit below one still to move), five steps on that replica alone; then the whole
 * set verified and the sources deleted (finish). A replica's steps are the Recreate steps scoped to
 * its volumes where they are the same work (snapshot, create-disks, rebind), and its own where the
 * app is not scaled to zero (take-down, bring-up).
 */
import type { ReplicaScope, MigrationContext } from "../../context.ts";
import type { JournalPlan } from "../../journal/types.ts";
import type { Step, StepOutcome } from "../../saga/step.ts";
import { createDisks } from "../05-create-disks.ts";
import { precheck } from "../01-precheck.ts";
import { rebind } from "../06-rebind.ts";
import { snapshot } from "../04-snapshot.ts";
import { finish } from "../08-finish.ts";
import { bringUp } from "./bring-up.ts";
import { protectReplicas } from "./protect-replicas.ts";
import { takeDown } from "./take-down.ts";
import { verifyReplicas } from "./verify-replicas.ts";

/** The prefix of one replica's steps: `replica-2/rebind`. */
export function replicaPrefix(ordinal: number): string {
  return `replica-${ordinal}/`;
}

/** `step`, run on one replica only: named after it, its volumes only, its own wait clocks. */
function onReplica(step: Step<MigrationContext>, scope: ReplicaScope, settles?: string): Step<MigrationContext> {
  const within = (context: MigrationContext): MigrationContext => ({ ...context, replica: scope });
  const undo = step.compensate?.bind(step);
  return {
    ...step,
    name: `${replicaPrefix(scope.ordinal)}${step.name}`,
    run: (context): Promise<StepOutcome> => step.run(within(context)),
    ...(undo === undefined ? {} : { compensate: (context: MigrationContext): Promise<StepOutcome> => undo(within(context)) }),
    ...(settles === undefined ? {} : { settles }),
  };
}

/** The replicas that move, highest ordinal first, each with the claims of it that move. */
export function movingReplicas(plan: JournalPlan | undefined): ReplicaScope[] {
  return (plan?.ordinals ?? [])
    .map((ordinal) => ({ ordinal: ordinal.ordinal, claims: new Set((ordinal.volumes ?? []).filter((volume) => volume.move).map((volume) => volume.claim)) }))
    .filter((scope) => scope.claims.size > 0)
    .sort((a, b) => b.ordinal - a.ordinal);
}

/** Before precheck has planned, only the first two are known; they keep their places after. */
export function rollingSteps(plan: JournalPlan | undefined): Step<MigrationContext>[] {
  const replicas = movingReplicas(plan).flatMap((scope) => {
    const prefix = replicaPrefix(scope.ordinal);
    return [onReplica(takeDown, scope), onReplica(snapshot, scope), onReplica(createDisks, scope), onReplica(rebind, scope), onReplica(bringUp, scope, prefix)];
  });
  return [precheck, protectReplicas, ...replicas, verifyReplicas, finish];
}
