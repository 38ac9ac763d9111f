/**
 * The Argo CD health check zoneferry ships (gitops/argocd-health-statefulset.lua), run by a real
 * Lua interpreter (Debian's lua5.4, installed by scripts/setup.sh) the way Argo CD runs it: the
 * script is a chunk with the live object as the global `obj`, returning {status, message}. The
 * chunk gets only the base library and `table` (Argo CD opens base, table and a safe os for a
 * custom check, and not `string` unless useOpenLibs), so a script leaning on another library fails
 * here. The fixture is handed over as a Lua table literal made from JSON.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadYaml } from "@kubernetes/client-node";

const REPO = join(import.meta.dirname, "../..");
const SCRIPT = join(REPO, "gitops/argocd-health-statefulset.lua");
const LUA = process.env["ZONEFERRY_LUA"] ?? "lua5.4";

/**
 * A JSON value as a Lua literal: objects become tables with ["key"] fields, arrays 1-based tables.
 * Whole numbers stay integers: Argo CD's gopher-lua has only floats but prints a whole one as
 * Lua 5.4 prints an integer ("3"), so the messages read the same.
 */
function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return JSON.stringify(value).replace(/\\u([0-9a-fA-F]{4})/g, (_whole, hex: string) => `\\u{${hex}}`);
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toString();
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(", ")}}`;
  return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `[${luaLiteral(key)}] = ${luaLiteral(item)}`).join(", ")}}`;
}

interface Health {
  readonly status: string;
  readonly message: string;
}

/** Runs the script on `obj` as Argo CD does; answers its table's status and message. */
function health(obj: unknown): Health {
  const harness = [
    `local obj = ${luaLiteral(obj)}`,
    // What the chunk can see: the object, the base functions and the table library only.
    "local env = {obj = obj, table = table, tostring = tostring, tonumber = tonumber, type = type, pairs = pairs, ipairs = ipairs, next = next, error = error, pcall = pcall, select = select}",
    "local chunk = assert(loadfile(arg[1], 't', env))",
    "local hs = chunk()",
    "io.write(tostring(hs.status), '\\0', tostring(hs.message))",
  ].join("\n");
  const out = execFileSync(LUA, ["-", SCRIPT], { input: harness, encoding: "utf8" });
  const [status = "", message = ""] = out.split("\0");
  return { status, message };
}

interface Shape {
  readonly annotations?: Record<string, string>;
  readonly replicas?: number;
  readonly generation?: number;
  readonly status?: Record<string, unknown>;
  readonly updateStrategy?: Record<string, unknown>;
}

/** A StatefulSet as the API server returns it: defaults filled in (updateStrategy with partition 0). */
function statefulSet(shape: Shape = {}): unknown {
  const replicas = shape.replicas ?? 3;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "orders-db", namespace: "shop", generation: shape.generation ?? 4, annotations: shape.annotations ?? {} },
    spec: { replicas, serviceName: "orders-db", updateStrategy: shape.updateStrategy ?? { type: "RollingUpdate", rollingUpdate: { partition: 0 } } },
    status: shape.status ?? { observedGeneration: 4, replicas, readyReplicas: replicas, currentReplicas: replicas, updatedReplicas: replicas, availableReplicas: replicas, currentRevision: "orders-db-7c9", updateRevision: "orders-db-7c9" },
  };
}

const REQUEST = { "zoneferry.io/target-zones": "cn-shanghai-b,cn-shanghai-g", "zoneferry.io/migration-id": "3f9c2a7d41b0" };
const at = (status: string, step: string, message: string, request: Record<string, string> = REQUEST): Record<string, string> => ({
  ...request,
  "zoneferry.io/status": status,
  "zoneferry.io/step": step,
  "zoneferry.io/message": message,
});
/** Scaled to 0 by the runner; Git's 3 is held, so the live spec says 0. */
const AT_ZERO = { replicas: 0, status: { observedGeneration: 4, replicas: 0, availableReplicas: 0, currentRevision: "orders-db-7c9", updateRevision: "orders-db-7c9" } };
const LEFTOVERS = "all steps done but finish, which could not finish: source disk d-uf6aaa in cn-shanghai-b kept, delete it by hand: ECS DeleteDisk failed: IncorrectDiskStatus";

describe("the Argo CD health check for StatefulSets (gitops/argocd-health-statefulset.lua)", () => {
  it("with no request, is Argo CD's built-in check: Healthy once the rollout is complete", () => {
    assert.deepEqual(health(statefulSet()), { status: "Healthy", message: "partitioned roll out complete: 3 new pods have been updated..." });
  });

  it("with no request, a plain rollout in progress is Progressing, as the built-in check says", () => {
    const rolling = statefulSet({ status: { observedGeneration: 4, replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: "orders-db-7c9", updateRevision: "orders-db-8d1" } });
    assert.deepEqual(health(rolling), { status: "Progressing", message: "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated..." });
    const notReady = statefulSet({ status: { observedGeneration: 4, replicas: 3, readyReplicas: 2, updatedReplicas: 2, currentRevision: "orders-db-7c9", updateRevision: "orders-db-8d1" } });
    assert.deepEqual(health(notReady), { status: "Progressing", message: "Waiting for 1 pods to be ready..." });
    const unobserved = statefulSet({ generation: 5 });
    assert.deepEqual(health(unobserved), { status: "Progressing", message: "Waiting for statefulset spec update to be observed..." });
    const partitioned = statefulSet({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } }, status: { observedGeneration: 4, replicas: 3, readyReplicas: 3, updatedReplicas: 1, currentRevision: "orders-db-7c9", updateRevision: "orders-db-8d1" } });
    assert.deepEqual(health(partitioned), { status: "Progressing", message: "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..." });
  });

  it("with no request, follows the built-in rules for OnDelete and for a RollingUpdate without rollingUpdate", () => {
    const onDelete = statefulSet({ updateStrategy: { type: "OnDelete" } });
    assert.deepEqual(health(onDelete), { status: "Healthy", message: "statefulset has 3 ready pods" });
    const bare = { observedGeneration: 4, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 1, currentRevision: "orders-db-7c9", updateRevision: "orders-db-8d1" };
    assert.deepEqual(health(statefulSet({ updateStrategy: { type: "RollingUpdate" }, status: bare })), { status: "Progressing", message: "waiting for statefulset rolling update to complete 1 pods at revision orders-db-8d1..." });
    assert.deepEqual(health(statefulSet({ updateStrategy: { type: "RollingUpdate" } })), { status: "Healthy", message: "statefulset rolling update complete 3 pods at revision orders-db-7c9..." });
  });

  it("with no request, a StatefulSet at 0 replicas is Healthy, as Argo CD's own check says (why a move needs this check)", () => {
    assert.deepEqual(health(statefulSet(AT_ZERO)), { status: "Healthy", message: "partitioned roll out complete: 0 new pods have been updated..." });
  });

  it("Pending is Progressing", () => {
    assert.deepEqual(health(statefulSet({ annotations: { ...REQUEST, "zoneferry.io/status": "Pending" } })), { status: "Progressing", message: "zoneferry Pending" });
  });

  it("Running is Progressing with the step, even with the app at zero replicas", () => {
    const sts = statefulSet({ ...AT_ZERO, annotations: at("Running", "create-disks", "step create-disks") });
    assert.deepEqual(health(sts), { status: "Progressing", message: "zoneferry Running (step create-disks)" });
    const rolling = statefulSet({ status: { observedGeneration: 4, replicas: 3, readyReplicas: 2, updatedReplicas: 3 }, annotations: at("Running", "replica 2/3: rebind", "step replica 2/3: rebind") });
    assert.deepEqual(health(rolling), { status: "Progressing", message: "zoneferry Running (step replica 2/3: rebind)" });
  });

  it("RollingBack is Progressing, saying what is undone", () => {
    const sts = statefulSet({ ...AT_ZERO, annotations: at("RollingBack", "rebind", "rolling back: undoing rebind") });
    assert.deepEqual(health(sts), { status: "Progressing", message: "zoneferry RollingBack (step rebind): rolling back: undoing rebind" });
  });

  it("Succeeded and ready is the StatefulSet's own health", () => {
    const sts = statefulSet({ annotations: at("Succeeded", "finish", "all steps done") });
    assert.deepEqual(health(sts), { status: "Healthy", message: "partitioned roll out complete: 3 new pods have been updated..." });
  });

  it("Succeeded with work left by hand still checks readiness, and says what is left", () => {
    const notReady = statefulSet({ status: { observedGeneration: 4, replicas: 3, readyReplicas: 1, updatedReplicas: 3 }, annotations: at("Succeeded", "finish", LEFTOVERS) });
    assert.deepEqual(health(notReady), { status: "Progressing", message: `zoneferry Succeeded, with work left by hand: ${LEFTOVERS}; Waiting for 2 pods to be ready...` });
    const ready = statefulSet({ annotations: at("Succeeded", "finish", LEFTOVERS) });
    assert.deepEqual(health(ready), { status: "Healthy", message: `zoneferry Succeeded, with work left by hand: ${LEFTOVERS}; partitioned roll out complete: 3 new pods have been updated...` });
  });

  it("Failed is Degraded while the request is in Git, and the StatefulSet's own health once it is removed", () => {
    const message = "step restore-replicas failed: replicas not Ready in their planned zones within ready-timeout (15m): orders-db-1 (not Ready); rolled back";
    const failed = health(statefulSet({ annotations: at("Failed", "restore-replicas", message) }));
    assert.equal(failed.status, "Degraded");
    assert.equal(failed.message, `zoneferry Failed (step restore-replicas): ${message} (rolled back; set a new zoneferry.io/retry to try again, or remove zoneferry.io/target-zones to acknowledge)`);
    // Removing the request leaves zoneferry's annotations as they were (nothing clears them): the check reads that as acknowledged.
    const acknowledged = at("Failed", "restore-replicas", message, { "zoneferry.io/migration-id": "3f9c2a7d41b0" });
    assert.deepEqual(health(statefulSet({ annotations: acknowledged })), { status: "Healthy", message: "partitioned roll out complete: 3 new pods have been updated..." });
    const cancelled = at("Failed", "rebind", "cancelled at step rebind: zoneferry.io/target-zones was removed, which cancels the migration; rolled back", { "zoneferry.io/migration-id": "3f9c2a7d41b0" });
    assert.equal(health(statefulSet({ annotations: cancelled })).status, "Healthy", "a cancel is the user's own act: nothing to acknowledge");
  });

  it("RollbackFailed is Degraded, with the request or without it, until zoneferry.io/status is cleared", () => {
    const message = "step rebind failed: …; the rollback could not finish: new disk d-uf6bbb in cn-shanghai-g kept, delete it by hand";
    const expected = { status: "Degraded", message: `zoneferry RollbackFailed (step rebind): ${message} (needs a person: do what the message says, then remove zoneferry.io/status)` };
    assert.deepEqual(health(statefulSet({ annotations: at("RollbackFailed", "rebind", message) })), expected);
    assert.deepEqual(health(statefulSet({ annotations: at("RollbackFailed", "rebind", message, {}) })), expected);
  });

  it("a request not stamped yet (the mutating webhook did not answer) is the StatefulSet's own health", () => {
    assert.equal(health(statefulSet({ annotations: { "zoneferry.io/target-zones": "cn-shanghai-g" } })).status, "Healthy");
  });

  it("calls nothing of the string library, which Argo CD does not open for a custom check (Lua 5.4's strings would answer :sub here)", () => {
    assert.doesNotMatch(readFileSync(SCRIPT, "utf8").replace(/--.*$/gm, ""), /\bstring\.|:\s*(sub|len|find|match|gmatch|gsub|format|lower|upper|rep|byte)\s*\(/);
  });

  it("is the very script gitops/argocd-cm-patch.yaml installs", () => {
    const patch = loadYaml<{ data: Record<string, string> }>(readFileSync(join(REPO, "gitops/argocd-cm-patch.yaml"), "utf8"));
    assert.equal(patch.data["resource.customizations.health.apps_StatefulSet"], readFileSync(SCRIPT, "utf8"));
  });
});
