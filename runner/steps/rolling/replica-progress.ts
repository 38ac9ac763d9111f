/**
 * The journal's record of each replica of strategy Rolling (status.replicas), and the pod each
 * ordinal is: what the per-replica steps read first and write once.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { journalNameOf, type MigrationContext } from "../../context.ts";
import { orUndefined } from "../../kube-patch.ts";
import type { ReplicaProgress, ZoneMigrationResource } from "../../journal/types.ts";

/** The pod of `ordinal` of the job's StatefulSet. */
export function replicaPod(context: MigrationContext, ordinal: number): string {
  return `${context.job.statefulSet}-${ordinal}`;
}

export async function readPod(context: MigrationContext, name: string): Promise<V1Pod | undefined> {
  return orUndefined(context.core.readNamespacedPod({ namespace: context.job.namespace, name }));
}

export function replicaOf(journal: ZoneMigrationResource, ordinal: number): ReplicaProgress | undefined {
  return journal.status?.replicas?.find((replica) => replica.ordinal === ordinal);
}

/** The step's replica: its ordinal, and where the plan puts it. */
export function plannedReplica(context: MigrationContext, journal: ZoneMigrationResource): Pick<ReplicaProgress, "ordinal" | "zone" | "claims"> {
  const scope = context.replica!;
  const zone = journal.spec.plan?.ordinals.find((ordinal) => ordinal.ordinal === scope.ordinal)?.zone ?? "?";
  return { ordinal: scope.ordinal, zone, claims: [...scope.claims].sort() };
}

/** One journal write: the replica's record made or changed. */
export async function recordReplica(context: MigrationContext, journal: ZoneMigrationResource, change: Partial<ReplicaProgress>): Promise<void> {
  const planned = plannedReplica(context, journal);
  await context.journal.updateStatus(context.job.namespace, journalNameOf(context), (status) => {
    const replicas = status.replicas ?? [];
    const existing = replicas.find((replica) => replica.ordinal === planned.ordinal);
    if (existing === undefined) replicas.push({ ...planned, phase: "TakingDown", ...change });
    else Object.assign(existing, change);
    status.replicas = replicas;
  });
}

export function nowIso(context: MigrationContext): string {
  return new Date(context.now()).toISOString();
}
