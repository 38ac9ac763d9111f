/**
 * A seam before every side effect of a migration: each write through a fenced client (the cloud,
 * the Kubernetes API, the journal) and each report calls it first, with the step it belongs to.
 * Production passes none. The sandbox's failpoint runner (sandbox/failpoints.ts) passes one that
 * kills the process, flushes Redis or freezes the event loop before the Nth write of a chosen
 * step: a crash "between any two API calls" made deterministic, as etcd's gofail failpoints do.
 */
import type { StepScope } from "./saga/step-scope.ts";

export interface WriteAt {
  readonly migrationId: string;
  /** The StatefulSet migrated. */
  readonly namespace: string;
  readonly statefulSet: string;
  /** Undefined outside a step (the saga's final report). */
  readonly step: StepScope | undefined;
  /** The client method about to be called, e.g. `createDisk`, `deleteNamespacedPersistentVolumeClaim`. */
  readonly call: string;
}

/** Resolves when the write may go on; the fence is checked after it (a pause here is a paused worker). */
export type WriteSeam = (at: WriteAt) => Promise<void>;
