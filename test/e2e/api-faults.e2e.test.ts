/**
 * The runner against an API server that refuses what it reports, and a queue that loses track of
 * a job, on the sandbox. Faults are injected as a cluster admin would meet them: ValidatingAdmissionPolicies
 * that deny the runner's identity, and the job's state changed in Redis.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { MIGRATION_QUEUE } from "../../core/migration-queue.ts";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const NS = "apifaults";
const RUNNER = "zoneferry-runner";

describe("a migration on an API server that refuses the runner's reports", () => {
  const sandbox = new SandboxSession("zf-apifaults-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);

  /** Applies a policy and its binding; answers a function that removes both. */
  async function policy(name: string, rules: string, expression: string, message: string): Promise<() => Promise<void>> {
    const file = join(sandbox.dir, `${name}.yaml`);
    writeFileSync(file, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules: [${rules}]
  validations:
  - expression: ${JSON.stringify(expression)}
    message: ${message}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ${name}}
spec: {policyName: ${name}, validationActions: [Deny]}
`);
    await kubectl("apply", "-f", file);
    return async () => { await kubectl("delete", "-f", file, "--ignore-not-found"); };
  }

  /** Waits until a server-side dry run of `args`, as the runner (in its sandbox groups), is refused with `message`. */
  async function refusedToRunner(message: RegExp, ...args: string[]): Promise<void> {
    await waitFor(async () => kubectl(...args, "--dry-run=server", `--as=${RUNNER}`, "--as-group=system:masters").then(() => false, (error: unknown) => message.test(String((error as { stderr?: string }).stderr))), 30_000, () => `the policy never refused ${args.join(" ")}`);
  }

  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(sandbox.env["RUNNER_METRICS_URL"]!)).text();
    return Number(pattern.exec(text)?.[1] ?? "0");
  };
  const journalOf = async (name: string, field: string): Promise<string> => kubectl("-n", NS, "get", "zonemigrations", "-o", `jsonpath={.items[?(@.spec.statefulSet=="${name}")].${field}}`);

  /** What a user checks after a move: each pod in the target zone on a new disk holding its claim's content, no source disk left. */
  async function assertMoved(name: string, replicas: number, zone: string, sources: readonly string[]): Promise<void> {
    const world = await sandbox.inventory();
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      assert.equal(await sandbox.zoneOfPod(`${name}-${ordinal}`), zone);
      assert.equal(await sandbox.contentOf(`data-${name}-${ordinal}`), `${name}-${ordinal} rows 1..${100 + ordinal}`);
      const made = await sandbox.newDisksOf(`data-${name}-${ordinal}`);
      assert.deepEqual(made.map((disk) => disk.diskId), [await sandbox.diskOf(`data-${name}-${ordinal}`)], "one new disk per claim, the one it is bound to");
    }
    assert.equal(world.disks.some((disk) => sources.includes(disk.diskId)), false, "the source disks are deleted");
    assert.equal(world.snapshots.filter((snapshot) => sources.includes(snapshot.sourceDiskId)).length, sources.length, "one snapshot per source disk");
  }

  before(async () => {
    await sandbox.up();
  });
  after(async () => {
    await sandbox.down();
  });

  it("moves the app with its data while every Event of the runner is refused and its status annotations are refused for 20 s", async () => {
    await sandbox.statefulSet("told", 2, { zones: ["cn-shanghai-b"] });
    const sources = [await sandbox.diskOf("data-told-0"), await sandbox.diskOf("data-told-1")];
    const refusedEventsBefore = await metric(/zoneferry_report_failures_total\{part="event"\} (\d+)/);
    const allowEvents = await policy("refuse-runner-events", `{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [events]}`, `request.userInfo.username != '${RUNNER}'`, "Events of the runner refused by policy");
    const keys = "['zoneferry.io/status', 'zoneferry.io/step', 'zoneferry.io/message']";
    const value = (object: string): string => `(has(${object}.metadata.annotations) && k in ${object}.metadata.annotations ? ${object}.metadata.annotations[k] : '')`;
    const allowAnnotations = await policy("refuse-runner-annotations", `{apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [statefulsets]}`, `request.userInfo.username != '${RUNNER}' || object.metadata.namespace != '${NS}' || ${keys}.all(k, ${value("object")} == ${value("oldObject")})`, "status annotations of the runner refused by policy");
    try {
      const event = join(sandbox.dir, "probe-event.yaml");
      writeFileSync(event, `apiVersion: v1\nkind: Event\nmetadata: {name: probe, namespace: ${NS}}\ninvolvedObject: {kind: StatefulSet, name: told, namespace: ${NS}}\nreason: Probe\nmessage: probe\n`);
      await refusedToRunner(/Events of the runner refused by policy/, "apply", "-f", event);
      // The chart's runner-writes policy lets the runner write only to a stamped StatefulSet: the
      // probe needs one (the request below stamps its own id over it).
      await kubectl("-n", NS, "annotate", "statefulset", "told", "zoneferry.io/migration-id=probe");
      await refusedToRunner(/status annotations of the runner refused by policy/, "-n", NS, "annotate", "statefulset", "told", "--overwrite", "zoneferry.io/step=probe");
      await kubectl("-n", NS, "annotate", "statefulset", "told", "zoneferry.io/check-interval=1s", "zoneferry.io/target-zones=cn-shanghai-g");
      const refusedSince = Date.now();
      // The run goes on while the StatefulSet cannot be told: its journal moves past precheck.
      await waitFor(async () => !["", "precheck"].includes(await journalOf("told", "status.step")), 20_000, () => "the migration did not go past precheck while its annotations were refused");
      assert.equal(await sandbox.annotation("told", "status"), "Pending", "the runner's annotations were refused");
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - refusedSince))));
      await allowAnnotations();
      const status = await sandbox.ended("told");
      assert.equal(status, "Succeeded", await sandbox.annotation("told", "message"));
    } finally {
      await allowAnnotations();
      await allowEvents();
    }
    await assertMoved("told", 2, "cn-shanghai-g", sources);
    assert.equal(await journalOf("told", "status.phase"), "Succeeded");
    // The refusals happened: no Event of the runner on the StatefulSet, each refusal counted and logged.
    assert.equal(await kubectl("-n", NS, "get", "events", "--field-selector", "involvedObject.name=told,source=zoneferry-runner", "-o", "name"), "");
    assert.ok((await metric(/zoneferry_report_failures_total\{part="event"\} (\d+)/)) > refusedEventsBefore, "refused Events are counted");
    assert.ok((await metric(/zoneferry_report_failures_total\{part="annotations"\} (\d+)/)) > 0, "refused annotation writes are counted");
    const log = readFileSync(join(sandbox.dir, "runner.log"), "utf8");
    assert.match(log, /refuse-runner-events/, "the runner logged the API server's refusal of its Events");
    assert.match(log, /refuse-runner-annotations/, "the runner logged the API server's refusal of its annotations");
  });

  it("finishes a migration whose job failed in Redis mid-way: the reconciler queues it again from its journal and counts it", async () => {
    await sandbox.statefulSet("requeued", 1, { zones: ["cn-shanghai-m"] });
    const sources = [await sandbox.diskOf("data-requeued-0")];
    await kubectl("-n", NS, "annotate", "statefulset", "requeued", "zoneferry.io/check-interval=1s", "zoneferry.io/health-duration=15s", "zoneferry.io/target-zones=cn-shanghai-g");
    const id = await sandbox.annotation("requeued", "migration-id");
    // During health-duration the job waits, delayed; it is then failed, as an unexpected error would.
    await waitFor(async () => (await journalOf("requeued", "status.conditions[*].type")).includes("HealthChecking"), 60_000, () => "the migration never began its health check");
    const redis = new Redis(sandbox.env["REDIS_URL"]!);
    try {
      const key = `bull:${MIGRATION_QUEUE}`;
      await waitFor(async () => (await redis.zrem(`${key}:delayed`, id)) === 1, 20_000, () => "the job was never delayed");
      const now = Date.now();
      await redis.multi().zadd(`${key}:failed`, now, id).hset(`${key}:${id}`, "failedReason", "an unexpected fault", "finishedOn", String(now)).exec();
    } finally {
      redis.disconnect();
    }
    assert.equal(await sandbox.ended("requeued", 90_000), "Succeeded");
    await assertMoved("requeued", 1, "cn-shanghai-g", sources);
    assert.equal(await metric(/zoneferry_jobs_requeued_total\{reason="failed"\} (\d+)/), 1, "the re-queued failed job is counted");
  });
});
