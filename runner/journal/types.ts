/**
 * The full shape of the ZoneMigration custom resource as the runner writes it (the CRD is
 * charts/zoneferry/crds/zonemigrations.zoneferry.io.yaml; test/integration/zone-migration-schema.test.ts
 * round-trips every field through it). It extends the fields the webhook reads, declared once in
 * core/zone-migration.ts: a ZoneMigrationResource is a ZoneMigration.
 */
import type { V1ObjectMeta, V1OwnerReference, V1PersistentVolumeClaimSpec } from "@kubernetes/client-node";
import type { MigrationStatus } from "../../core/annotations.ts";
import type { RequestOperation } from "../../core/cross-account-request.ts";
import type { Strategy } from "../../core/migration-request.ts";
import type { ZoneMigrationProgress, ZoneMigrationTarget } from "../../core/zone-migration.ts";
import type { DurableCheckpoint } from "../saga/checkpoint.ts";

/** The request fields besides the target zones, every default applied (core/migration-request.ts). */
export interface JournalRequest {
  checkIntervalMs: number;
  readyTimeoutMs: number;
  healthDurationMs: number;
  /** 1..65536, or -1 for "keep until deleted by hand". */
  snapshotRetentionDays: number;
  retainSource: boolean;
  strategy: Strategy;
  /** The `retry` value, "" when absent. */
  retry: string;
  /** An export or a restore (core/cross-account-request.ts); absent for a move. Part of the migration id. */
  operation?: RequestOperation;
}

/** One volume of one ordinal, as the planner placed it (core/planner.ts `VolumePlacement`). */
export interface JournalVolumePlan {
  claim: string;
  fromZone: string;
  toZone: string;
  /** False when the disk already sits in its planned zone. */
  move: boolean;
}

/** One ordinal of the plan (core/planner.ts `OrdinalPlacement`). */
export interface JournalOrdinalPlan {
  ordinal: number;
  zone: string;
  volumes?: JournalVolumePlan[];
}

export interface JournalPlan {
  ordinals: JournalOrdinalPlan[];
}

export interface ZoneMigrationSpec extends ZoneMigrationTarget {
  /** targetZones joined with commas, for the TARGET printer column (absent in journals of zoneferry 0.1). */
  target?: string;
  request?: JournalRequest;
  plan?: JournalPlan;
  /** spec.replicas before the runner scaled to zero. */
  originalReplicas?: number;
  originalWhenScaled?: string;
}

/** A live PVC as its re-creation keeps it (runner/claims.ts `shapeOf`). */
export interface ClaimShape {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: V1OwnerReference[];
  spec: V1PersistentVolumeClaimSpec;
}

/**
 * How far one volume has come, as the steps record it: precheck planned it, snapshot made its
 * snapshot, create-disks its new disk, rebind the new disk's PV, then moved its claim onto it.
 */
export const VOLUME_STATES = ["planned", "snapshotted", "disk-created", "pv-created", "rebound", "claim-made"] as const;
export type VolumeState = (typeof VOLUME_STATES)[number];

/** Progress of one moved volume; each id is recorded before a later step relies on it. */
export interface VolumeProgress {
  claim: string;
  sourceDisk?: string;
  sourcePersistentVolume?: string;
  originalReclaimPolicy?: string;
  snapshot?: string;
  newDisk?: string;
  newPersistentVolume?: string;
  zone?: string;
  /** The PVC as it was before the move, journaled by protect before rebind first deletes it. */
  originalClaim?: ClaimShape;
  /**
   * RFC 3339: when a pod was first seen running on the new disk. From then on the new disk may
   * hold writes the source lacks, and no rollback deletes it (docs/data-safety.md, invariant c).
   */
  servedAt?: string;
  /** A snapshot a rollback took of a new disk it kept (the app had written to it). */
  keptSnapshot?: string;
  /** An export or a restore: the snapshot's name (core/cross-account-request.ts exportSnapshotName). */
  snapshotName?: string;
  /** An export or a restore: the size of the snapshot's disk. */
  sizeGiB?: number;
  /** An export: the disk's category. */
  category?: string;
  state?: VolumeState;
}

/**
 * Where one replica of strategy Rolling stands: being taken down (its pod evicted), down (held
 * unscheduled while its disks move), moved (Ready in its planned zone), or restored (a rollback put
 * it back on its original disks). Its volumes' progress is in `volumes`.
 */
export const REPLICA_PHASES = ["TakingDown", "Down", "Moved", "Restored"] as const;
export type ReplicaPhase = (typeof REPLICA_PHASES)[number];

export interface ReplicaProgress {
  ordinal: number;
  phase: ReplicaPhase;
  /** The zone the plan gave the ordinal. */
  zone: string;
  /** Its claims that move. */
  claims: string[];
  /** The uid of the pod the runner evicted: a pod of that name with another uid was made again. */
  evictedPod?: string;
  /** RFC 3339: when the runner asked for the eviction. */
  downAt?: string;
  /** RFC 3339: when it was seen Ready again (moved, or restored). */
  upAt?: string;
}

/**
 * metav1.Condition as it travels in a custom object: client-node does not deserialize custom
 * objects, so the time is the RFC 3339 string, not a Date.
 */
export interface JournalCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** One replica as it was when all first became Ready (health-duration's second check). */
export interface PodHealth {
  pod: string;
  uid?: string;
  /** Container restarts summed over the pod's containers. */
  restarts?: number;
}

/** An export's share of its snapshots, or the share a restore accepted. */
export interface JournalShare {
  shareId: string;
  name: string;
  /** The account that owns it: the export's. */
  ownerAccountId?: string;
}

export interface ZoneMigrationStatus extends ZoneMigrationProgress {
  /** An export or a restore: the Resource Sharing share. */
  share?: JournalShare;
  /** An export: the ConfigMap holding its mapping and the restore annotation to commit. */
  exportConfigMap?: string;
  volumes?: VolumeProgress[];
  /** Strategy Rolling: each moved replica's progress, in the order they move. */
  replicas?: ReplicaProgress[];
  conditions?: JournalCondition[];
  healthBaseline?: PodHealth[];
  /** The saga's durable progress: where a run resumes when the queue lost its job (runner/saga/checkpoint.ts). */
  checkpoint?: DurableCheckpoint;
  /** RFC 3339. */
  startedAt?: string;
  /** RFC 3339. */
  finishedAt?: string;
}

/** A ZoneMigration as read from the API server. */
export interface ZoneMigrationResource {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec: ZoneMigrationSpec;
  status?: ZoneMigrationStatus;
}

/** Phases a migration never leaves: its StatefulSet is free again. */
export const TERMINAL_PHASES: ReadonlySet<MigrationStatus> = new Set<MigrationStatus>(["Succeeded", "Failed", "RollbackFailed"]);
