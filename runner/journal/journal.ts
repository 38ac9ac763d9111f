/**
 * The ZoneMigration journal (contract §3): the durable record a migration resumes from after the
 * runner or Redis is lost. Spec is written once at the start (and the plan after precheck); status
 * is written through the status subresource with optimistic concurrency, so no update is lost.
 */
import { isDeepStrictEqual } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { UnrecoverableError } from "bullmq";
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from "@kubernetes/client-node";
import { KRUISE, type Workload } from "../../core/workload/kinds.ts";
import { ZONE_MIGRATION_GROUP, ZONE_MIGRATION_PLURAL, ZONE_MIGRATION_VERSION } from "../../core/zone-migration.ts";
import { apiStatus, tolerating } from "../../core/kube/api-status.ts";
import { SEAL_ANNOTATION, type JournalSeal } from "./seal.ts";
import { TERMINAL_PHASES, type JournalPlan, type JournalRequest, type ZoneMigrationResource, type ZoneMigrationSpec, type ZoneMigrationStatus } from "./types.ts";

/** Labels on every journal, so a StatefulSet's journals can be listed by selector. */
export const JOURNAL_LABELS = {
  statefulSet: "zoneferry.io/statefulset",
  migrationId: "zoneferry.io/migration-id",
  /** The uid of the StatefulSet the migration was planned for: one deleted, or deleted and made again, is not it. */
  statefulSetUid: "zoneferry.io/statefulset-uid",
} as const;

/**
 * The uid of the StatefulSet a journal was made for; journals made before the label was kept
 * carry it as their ownerReference.
 */
export function journaledStatefulSetUid(journal: ZoneMigrationResource): string | undefined {
  return journal.metadata.labels?.[JOURNAL_LABELS.statefulSetUid]
    ?? journal.metadata.ownerReferences?.find((owner) => owner.kind === "StatefulSet")?.uid;
}

export interface MigrationJournalOptions {
  /** Seals each journal this runner creates, and tells them from journals it did not (runner/journal/seal.ts). */
  readonly seal: JournalSeal;
  /**
   * Field manager of every write (managedFields show who wrote what).
   * @defaultValue "zoneferry-runner"
   */
  readonly fieldManager?: string;
  /**
   * Attempts of a status read-modify-write before a 409 Conflict is given up on.
   * @defaultValue 5 — writers of one journal are the runner and, rarely, a second worker after a
   * stall; five rounds outlast that, and more would hide a hot loop.
   */
  readonly conflictAttempts?: number;
}

export interface EnsureJournalInput {
  readonly namespace: string;
  /** The live StatefulSet (its uid is recorded, so a StatefulSet made again under its name is told apart). */
  readonly statefulSet: Workload;
  readonly migrationId: string;
  readonly targetZones: readonly string[];
  readonly request: JournalRequest;
  readonly plan?: JournalPlan;
  readonly originalReplicas?: number;
}

/** The journal of a StatefulSet's migration is named `<statefulset>-<migration-id>` (contract §3). */
export function journalName(statefulSet: string, migrationId: string): string {
  return `${statefulSet}-${migrationId}`;
}

/** Reads and writes ZoneMigration objects for the runner. */
export class MigrationJournal {
  readonly #api: CustomObjectsApi;
  readonly #fieldManager: string;
  readonly #conflictAttempts: number;
  readonly #seal: JournalSeal;

  constructor(kubeconfig: KubeConfig, options: MigrationJournalOptions) {
    this.#api = kubeconfig.makeApiClient(CustomObjectsApi);
    this.#seal = options.seal;
    this.#fieldManager = options.fieldManager ?? "zoneferry-runner";
    this.#conflictAttempts = options.conflictAttempts ?? 5;
  }

  /**
   * Creates the journal, sealed, if absent and returns it. An existing journal is returned
   * unchanged if this runner sealed it (the name holds the migration id, a hash of the request, so
   * it records this request); one it did not seal is refused. A journal without a phase (a crash
   * between create and the first status write) gets `Pending`.
   */
  async ensure(input: EnsureJournalInput): Promise<ZoneMigrationResource> {
    const name = journalName(input.statefulSet.metadata?.name ?? "", input.migrationId);
    const body = journalObject(name, input);
    body.metadata.annotations = { [SEAL_ANNOTATION]: this.#seal.seal({ namespace: input.namespace, name, statefulSet: body.spec.statefulSet, statefulSetUid: input.statefulSet.metadata?.uid ?? "", migrationId: input.migrationId }) };
    const created = await tolerating<unknown>(409, () =>
      this.#api.createNamespacedCustomObject({ ...this.#target(input.namespace), body, fieldManager: this.#fieldManager }),
    );
    const journal = (created as ZoneMigrationResource | undefined) ?? (await this.#get(input.namespace, name));
    if (!this.isSealed(journal)) throw new UntrustedJournalError(journal);
    if (journal.status?.phase !== undefined) return journal;
    // The status subresource drops status on create; Pending is what admission promised (§3).
    return this.updateStatus(input.namespace, name, (status) => {
      status.phase ??= "Pending";
    });
  }

  /** Whether this runner created the journal (it carries this runner's seal for its own identity). */
  isSealed(journal: ZoneMigrationResource): boolean {
    return this.#seal.verify(journal, journaledStatefulSetUid(journal));
  }

  /** The journal, or undefined when there is none. */
  async read(namespace: string, name: string): Promise<ZoneMigrationResource | undefined> {
    return tolerating(404, () => this.#get(namespace, name));
  }

  /** Deletes the journal; deleting one already gone succeeds. */
  async remove(namespace: string, name: string): Promise<void> {
    await tolerating(404, () => this.#api.deleteNamespacedCustomObject({ ...this.#target(namespace), name }));
  }

  /** Merges `patch` into the spec (RFC 7386: arrays and `plan` are replaced whole). */
  async updateSpec(namespace: string, name: string, patch: Partial<ZoneMigrationSpec>): Promise<ZoneMigrationResource> {
    const answer: unknown = await this.#api.patchNamespacedCustomObject(
      { ...this.#target(namespace), name, body: { spec: patch }, fieldManager: this.#fieldManager },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    return answer as ZoneMigrationResource;
  }

  /**
   * Applies `mutate` to a copy of the current status and writes it back with the resourceVersion
   * it was read at; on 409 Conflict it reads again and re-applies `mutate`, so a concurrent
   * writer's change is kept, not overwritten. `mutate` may run several times: keep it pure.
   * A mutation that changes nothing writes nothing. `known`: the journal as last read or written
   * (with its resourceVersion), tried first instead of a read.
   */
  async updateStatus(namespace: string, name: string, mutate: (status: ZoneMigrationStatus) => void, known?: ZoneMigrationResource): Promise<ZoneMigrationResource> {
    for (let attempt = 1; ; attempt++) {
      // `known`, the journal as this step run last saw it, saves the read; a conflict means it was stale.
      const current = attempt === 1 && known !== undefined ? known : await this.#get(namespace, name);
      const status = structuredClone(current.status ?? {});
      mutate(status);
      if (isDeepStrictEqual(status, current.status ?? {})) return current;
      try {
        const answer: unknown = await this.#api.replaceNamespacedCustomObjectStatus({
          ...this.#target(namespace), name, body: { ...current, status }, fieldManager: this.#fieldManager,
        });
        return answer as ZoneMigrationResource;
      } catch (error) {
        if (apiStatus(error) !== 409 || attempt >= this.#conflictAttempts) throw error;
      }
      // A little jitter keeps two racing writers from colliding again on the next round.
      await sleep(Math.random() * 20 * attempt);
    }
  }

  /** Journals in every namespace whose phase is not terminal (no phase yet counts as Pending). */
  async listActive(): Promise<ZoneMigrationResource[]> {
    const answer = (await this.#api.listClusterCustomObject({
      group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL,
    })) as { items?: ZoneMigrationResource[] };
    return (answer.items ?? []).filter((journal) => !TERMINAL_PHASES.has(journal.status?.phase ?? "Pending"));
  }

  async #get(namespace: string, name: string): Promise<ZoneMigrationResource> {
    const answer: unknown = await this.#api.getNamespacedCustomObject({ ...this.#target(namespace), name });
    return answer as ZoneMigrationResource;
  }

  #target(namespace: string): { group: string; version: string; plural: string; namespace: string } {
    return { group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL, namespace };
  }
}

/** A journal the runner did not create: nothing in it is acted on. */
export class UntrustedJournalError extends UnrecoverableError {
  constructor(journal: ZoneMigrationResource) {
    super(untrustedMessage(journal));
    this.name = "UntrustedJournalError";
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** What a user is told of a journal the runner did not create. */
export function untrustedMessage(journal: ZoneMigrationResource): string {
  const name = `${journal.metadata.namespace ?? ""}/${journal.metadata.name ?? ""}`;
  return `ZoneMigration ${name} was not created by zoneferry's runner (it carries no valid zoneferry.io/seal): zoneferry acts on no journal it did not write, so nothing was done for this request; delete that ZoneMigration and apply the request again with a new zoneferry.io/retry value`;
}

/**
 * The new journal object. It has no owner: a StatefulSet deleted during its migration must not
 * take the record of where each claim's data is with it (an ownerReference makes the garbage
 * collector delete the journal with its owner, whatever blockOwnerDeletion says, and there is no
 * reference the collector ignores). A finished journal of a deleted StatefulSet is left for its
 * user to delete (docs/gitops.md, "If the StatefulSet is deleted during a move").
 */
function journalObject(name: string, input: EnsureJournalInput): ZoneMigrationResource {
  const { statefulSet } = input;
  const stsName = statefulSet.metadata?.name;
  const uid = statefulSet.metadata?.uid;
  if (stsName === undefined || uid === undefined) {
    throw new Error(`cannot journal migration ${input.migrationId}: the StatefulSet has no name or uid (pass the object read from the API server)`);
  }
  return {
    apiVersion: `${ZONE_MIGRATION_GROUP}/${ZONE_MIGRATION_VERSION}`,
    kind: "ZoneMigration",
    metadata: {
      name,
      namespace: input.namespace,
      labels: { [JOURNAL_LABELS.statefulSet]: stsName, [JOURNAL_LABELS.migrationId]: input.migrationId, [JOURNAL_LABELS.statefulSetUid]: uid },
    },
    spec: {
      statefulSet: stsName,
      // Recorded only for an Advanced StatefulSet: a journal of apps/v1 reads as before.
      ...(statefulSet.apiVersion === KRUISE.apiVersion ? { workloadApiVersion: KRUISE.apiVersion } : {}),
      migrationId: input.migrationId,
      targetZones: [...input.targetZones],
      // The TARGET column of `kubectl get zonemigrations` (the CRD holds it equal to targetZones).
      target: input.targetZones.join(","),
      request: { ...input.request },
      ...(input.plan === undefined ? {} : { plan: structuredClone(input.plan) }),
      ...(input.originalReplicas === undefined ? {} : { originalReplicas: input.originalReplicas }),
    },
  };
}
