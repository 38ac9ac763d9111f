/**
 * What a handler is: a function of the admission request and a read-only context, answering a
 * verdict and, at most, the migration to queue. Handlers perform no I/O of their own; queueing
 * happens in the transport, after the verdict, and never on dry run.
 */
import type { ClusterView } from "../../core/cluster-view.ts";
import type { DiskLookup } from "../../core/disk-cloud.ts";
import type { MigrationJobData } from "../../core/migration-queue.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import type { Verdict } from "../admission/response.ts";

export interface AdmissionContext {
  readonly view: ClusterView;
  readonly cloud: DiskLookup;
  /** Kubernetes username of zoneferry's runner, exempt from the migration guard. */
  readonly runnerIdentity: string | undefined;
  /** MAX_REPLICAS: larger StatefulSets are denied before they are assessed (core/size-limits.ts DEFAULT_MAX_REPLICAS when absent). */
  readonly maxReplicas?: number;
  /** CROSS_ACCOUNT: exports and restores are admitted; off (absent), they are refused up front. */
  readonly crossAccount?: boolean;
}

export interface Decision {
  readonly verdict: Verdict;
  /** The migration to queue if the request is admitted. */
  readonly enqueue?: MigrationJobData;
}

export type AdmissionHandler = (request: AdmissionRequest, context: AdmissionContext) => Promise<Decision>;
