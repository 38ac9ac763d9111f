/**
 * The ZoneMigration type against the CRD's schema, on a real API server with the chart's CRD: a
 * journal with every field the type declares filled goes in and comes back equal. The API server
 * prunes what the schema lacks and refuses what it forbids, so a field added to the type but not
 * to the schema (or the other way round, in a shape or an enum) fails here. The sample is built
 * from `Required<…>` constants: a field added to the type without one here does not compile.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { ZONE_MIGRATION_GROUP, ZONE_MIGRATION_PLURAL, ZONE_MIGRATION_VERSION, type ZoneMigration } from "../../core/zone-migration.ts";
import { installZoneMigrationCrd, zoneMigrationCrd } from "../../runner/journal/crd.ts";
import {
  VOLUME_STATES,
  REPLICA_PHASES,
  type ClaimShape, type JournalCondition, type JournalOrdinalPlan, type JournalPlan, type JournalRequest, type JournalVolumePlan,
  type PodHealth, type VolumeProgress, type ZoneMigrationResource, type ZoneMigrationSpec, type ZoneMigrationStatus,
} from "../../runner/journal/types.ts";
import type { DurableCheckpoint, SagaResult } from "../../runner/saga/checkpoint.ts";
import { controlPlaneBinaries, startControlPlane, type ControlPlane } from "../../sandbox/control-plane.ts";
import { ensureNamespace } from "../support/kube-seed.ts";

const NAMESPACE = "schema";

const REQUEST: Required<JournalRequest> = {
  checkIntervalMs: 5_000,
  readyTimeoutMs: 600_000,
  healthDurationMs: 120_000,
  snapshotRetentionDays: -1,
  retainSource: true,
  strategy: "Recreate",
  retry: "2",
  operation: { kind: "export", accounts: ["1111111111111111", "2222222222222222"] },
};
const VOLUME_PLAN: Required<JournalVolumePlan> = { claim: "data-db-0", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true };
const ORDINAL: Required<JournalOrdinalPlan> = { ordinal: 0, zone: "cn-shanghai-g", volumes: [VOLUME_PLAN, { ...VOLUME_PLAN, claim: "logs-db-0", move: false }] };
const PLAN: Required<JournalPlan> = { ordinals: [ORDINAL, { ordinal: 1, zone: "cn-shanghai-m", volumes: [] }] };
const SPEC: Required<ZoneMigrationSpec> = {
  statefulSet: "db",
  workloadApiVersion: "apps.kruise.io/v1beta1",
  migrationId: "0123456789ab",
  targetZones: ["cn-shanghai-g", "cn-shanghai-m"],
  target: "cn-shanghai-g,cn-shanghai-m",
  request: REQUEST,
  plan: PLAN,
  originalReplicas: 2,
  originalWhenScaled: "Delete",
};

const CLAIM_SHAPE: Required<ClaimShape> = {
  labels: { app: "db", tier: "storage" },
  annotations: { "example.com/owner": "team-a" },
  finalizers: ["example.com/backup"],
  ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "6f1c5c6e-3c1d-4c59-9d7e-1d2f3a4b5c6d", blockOwnerDeletion: true, controller: false }],
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } }, storageClassName: "alicloud-disk-essd", volumeMode: "Filesystem", volumeAttributesClassName: "gold" },
};
const VOLUME: Required<VolumeProgress> = {
  claim: "data-db-0",
  sourceDisk: "d-source0",
  sourcePersistentVolume: "d-source0",
  originalReclaimPolicy: "Delete",
  snapshot: "s-snapshot0",
  newDisk: "d-new0",
  newPersistentVolume: "d-new0",
  zone: "cn-shanghai-g",
  originalClaim: CLAIM_SHAPE,
  servedAt: "2030-01-02T03:04:05Z",
  keptSnapshot: "s-kept0",
  snapshotName: "zf-schema-data-db-0-0123456789ab",
  sizeGiB: 20,
  category: "cloud_essd",
  state: "rebound",
};
const CONDITION: Required<JournalCondition> = {
  type: "SnapshotsPending",
  status: "True",
  observedGeneration: 3,
  lastTransitionTime: "2030-01-02T03:00:00Z",
  reason: "Waiting",
  message: "waiting for snapshots to be Available",
};
const HEALTH: Required<PodHealth> = { pod: "db-0", uid: "0b7a2c44-9d55-4f4c-8a8e-0c1d2e3f4a5b", restarts: 1 };
const RESULT: Required<SagaResult> = { status: "RollbackFailed", message: "step rebind failed: quota; rollback could not undo: protect (PV kept on Retain)", leftovers: false };
const FAILURE: Required<NonNullable<DurableCheckpoint["failure"]>> = { step: "rebind", message: "quota", cancelled: false };
const CHECKPOINT: Required<DurableCheckpoint> = {
  phase: "finished",
  next: 6,
  registered: ["protect", "scale-to-zero", "create-disks", "rebind"],
  compensated: ["rebind", "scale-to-zero", "create-disks"],
  compensationFailures: [{ step: "protect", message: "PV d-source0 of PVC data-db-0 kept on Retain" }],
  failure: FAILURE,
  kept: ["new disk d-new0 in cn-shanghai-g of PVC data-db-0 (the app ran on it after the move), snapshot s-kept0"],
  result: RESULT,
};
const STATUS: Required<ZoneMigrationStatus> = {
  phase: "RollbackFailed",
  step: "rebind",
  message: RESULT.message,
  // One volume in each state the steps write.
  volumes: VOLUME_STATES.map((state, index) => (index === 0 ? { ...VOLUME, state } : { ...VOLUME, claim: `data-db-${index}`, state })),
  conditions: [CONDITION, { ...CONDITION, type: "zoneferry.io/HealthChecking", status: "False", reason: "Checked" }],
  healthBaseline: [HEALTH, { pod: "db-1" }],
  // One replica in each phase strategy Rolling writes.
  replicas: REPLICA_PHASES.map((phase, index) => ({ ordinal: index, phase, zone: "cn-shanghai-g", claims: [`data-db-${index}`], evictedPod: "0b7a2c44-9d55-4f4c-8a8e-0c1d2e3f4a5b", downAt: "2030-01-02T03:01:00Z", upAt: "2030-01-02T03:02:00Z" })),
  checkpoint: CHECKPOINT,
  startedAt: "2030-01-02T02:59:00Z",
  finishedAt: "2030-01-02T03:10:00Z",
  share: { shareId: "rs-0123456789", name: "zf-export-0123456789ab", ownerAccountId: "1111111111111111" },
  exportConfigMap: "zoneferry-export-db-0123456789ab",
};
/** A restore's request: the other shape of `operation`. */
const RESTORE_SPEC: ZoneMigrationSpec = { ...SPEC, targetZones: [], target: "", request: { ...REQUEST, operation: { kind: "restore", sourceAccount: "1111111111111111", exportId: "0123456789ab" } } };

/** Every field path a schema declares, `[]` for an array's items: spec.plan.ordinals[].zone. */
function schemaPaths(node: { properties?: Record<string, unknown>; items?: unknown }, prefix: string): string[] {
  const fields = Object.entries(node.properties ?? {}).flatMap(([key, child]) => [`${prefix}.${key}`, ...schemaPaths(child as typeof node, `${prefix}.${key}`)]);
  return node.items === undefined ? fields : [...fields, ...schemaPaths(node.items as typeof node, `${prefix}[]`)];
}

/** Every field path a value fills, in the same notation. */
function valuePaths(value: unknown, prefix: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuePaths(item, `${prefix}[]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}.${key}`, ...valuePaths(child, `${prefix}.${key}`)]);
}

describe("the ZoneMigration type against the CRD's schema", () => {
  it("declares no field in the schema that the type lacks: the sample fills every one", () => {
    const schema = zoneMigrationCrd().spec.versions[0]!.schema!.openAPIV3Schema!;
    const declared = ["spec", "status"].flatMap((part) => schemaPaths(schema.properties![part]!, part));
    const filled = new Set([...valuePaths(SPEC, "spec"), ...valuePaths(RESTORE_SPEC, "spec"), ...valuePaths(STATUS, "status")]);
    assert.ok(declared.includes("status.checkpoint.result.leftovers") && declared.includes("spec.plan.ordinals[].volumes[].move"), "the schema is walked to its leaves");
    assert.deepEqual(declared.filter((path) => !filled.has(path)), []);
  });
});

describe("the ZoneMigration type against the CRD's schema, on a real API server", () => {
  let plane: ControlPlane;
  let custom: CustomObjectsApi;
  const target = { group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL, namespace: NAMESPACE };

  /** Creates the journal `name` with `spec`, writes `status` through the status subresource, reads it back. */
  async function roundTrip(name: string, spec: unknown, status: unknown): Promise<ZoneMigrationResource> {
    const created = (await custom.createNamespacedCustomObject({ ...target, body: { apiVersion: `${ZONE_MIGRATION_GROUP}/${ZONE_MIGRATION_VERSION}`, kind: "ZoneMigration", metadata: { name }, spec } })) as ZoneMigrationResource;
    await custom.replaceNamespacedCustomObjectStatus({ ...target, name, body: { ...created, status } });
    return (await custom.getNamespacedCustomObject({ ...target, name })) as ZoneMigrationResource;
  }

  before(async () => {
    plane = await startControlPlane(controlPlaneBinaries(process.env));
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(plane.kubeconfig);
    await installZoneMigrationCrd(kubeconfig);
    await ensureNamespace(kubeconfig, NAMESPACE);
    custom = kubeconfig.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await plane.stop();
  });

  it("keeps every field the type declares, in spec and status, as written", async () => {
    const stored = await roundTrip("db-0123456789ab", SPEC, STATUS);
    assert.deepEqual(stored.spec, SPEC);
    assert.deepEqual(stored.status, STATUS);
    // What the webhook reads is a part of the same type.
    const seenByWebhook: ZoneMigration = stored;
    assert.equal(seenByWebhook.status?.phase, "RollbackFailed");
  });

  it("keeps a restore's request, which has no target zones, and refuses a move without one", async () => {
    const moveRequest: JournalRequest = { ...REQUEST };
    delete moveRequest.operation;
    const stored = await roundTrip("db-restore", RESTORE_SPEC, STATUS);
    assert.deepEqual(stored.spec, RESTORE_SPEC);
    await assert.rejects(
      custom.createNamespacedCustomObject({ ...target, body: { apiVersion: `${ZONE_MIGRATION_GROUP}/${ZONE_MIGRATION_VERSION}`, kind: "ZoneMigration", metadata: { name: "db-nozones" }, spec: { ...SPEC, targetZones: [], target: "", request: moveRequest } } }),
      /a move has at least one target zone/,
    );
  });

  it("prunes a field the schema does not declare, so the round trip above fails for a field missing from it", async () => {
    const volume = { ...VOLUME, undeclared: "dropped" };
    const stored = await roundTrip("db-pruned", { ...SPEC, undeclared: 1 }, { ...STATUS, volumes: [volume], checkpoint: { ...CHECKPOINT, undeclared: true } });
    assert.deepEqual(stored.spec, SPEC);
    assert.deepEqual(stored.status?.volumes, [VOLUME]);
    assert.deepEqual(stored.status.checkpoint, CHECKPOINT);
  });
});
