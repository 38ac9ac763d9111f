/**
 * Issue 12's attacks on the sandbox, made as an attacker makes them: a tenant with a Role in its
 * own namespace (kubectl impersonation of tenant-a), anyone who reaches the webhook's port (with
 * and without the client certificate the API server presents), and a forger with Redis access.
 * Each test shows the attack happened and what stopped it (the API server's refusal, the webhook's
 * answer, the runner's message), then what the attacker sees, then that no data was harmed: each
 * claim's content, the ECS emulator's inventory and its request log.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { V1StatefulSet } from "@kubernetes/client-node";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { currentRequest, requestMigrationId } from "../../core/migration-id.ts";
import { MIGRATION_QUEUE, addMigrationJob, migrationJob } from "../../core/migration-queue.ts";
import { waitFor } from "../../sandbox/processes.ts";
import type { AdmissionResponse } from "../../webhook/admission/review.ts";
import { UNSEEN_WARNING } from "../../webhook/handlers/validate.ts";
import { reviewBody, stsRequest, update } from "../support/admission.ts";
import { REPO, SandboxSession } from "../support/sandbox-session.ts";

const NS = "security";
const TENANT = "tenant-a";
const VICTIM = "tenant-b";
/** The tenant as the API server knows it: a user with a Role in its own namespace only. */
const AS_TENANT = [`--as=${TENANT}`, "--as-group=system:authenticated"];
/** Whoever posts a forged review names the user it likes. */
const FORGER = "mallory";
const POLICY_TEMPLATE = join(REPO, "charts/zoneferry/templates/admission-policies.yaml");
const JOURNAL_POLICY = "zoneferry-journal-writer";
/** ECS calls that make, change or delete a disk or a snapshot. */
const ECS_WRITES = new Set(["CreateSnapshot", "CreateDisk", "DeleteDisk", "DeleteSnapshot", "AttachDisk", "DetachDisk", "ResizeDisk", "ModifyDiskAttribute"]);

interface LoggedCall {
  readonly seq: number;
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
}

describe("issue 12's attacks on the sandbox", () => {
  const sandbox = new SandboxSession("zf-security-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  const tenant = async (...args: string[]): Promise<string> => sandbox.kubectl(...AS_TENANT, ...args);
  let queue: Queue | undefined;
  let redis: Redis | undefined;

  /** The error output of a command that must fail. */
  async function refusal(command: Promise<string>): Promise<string> {
    return command.then(
      (out) => assert.fail(`the command succeeded: ${out}`),
      (error: unknown) => String((error as { stderr?: string }).stderr ?? error),
    );
  }

  async function liveStatefulSet(namespace: string, name: string): Promise<V1StatefulSet> {
    return JSON.parse(await kubectl("-n", namespace, "get", "statefulset", name, "-o", "json")) as V1StatefulSet;
  }

  /** A forged AdmissionReview posted with the API server's client certificate: the webhook's answer, and how long it took. */
  async function review(path: string, body: string): Promise<{ response: AdmissionResponse; text: string; ms: number }> {
    const answer = await sandbox.callWebhook(path, body);
    assert.equal(answer.status, 200, `${path} answered ${answer.status}: ${answer.text.slice(0, 500)}`);
    return { ...answer, response: (JSON.parse(answer.text) as { response: AdmissionResponse }).response };
  }

  /** Every ECS call the emulator has logged. */
  async function ecsCalls(): Promise<LoggedCall[]> {
    return (await (await sandbox.emulator("/requests")).json()) as LoggedCall[];
  }
  const lastCall = async (): Promise<number> => (await ecsCalls()).at(-1)?.seq ?? 0;
  /** ECS writes since `seq`, as "Action(param, …)" for a readable failure. */
  async function ecsWritesSince(seq: number): Promise<string[]> {
    return (await ecsCalls()).filter((call) => call.seq > seq && ECS_WRITES.has(call.action)).map((call) => `${call.action}(${Object.entries(call.params).filter(([key]) => /Id$/.test(key)).map(([key, value]) => `${key}=${value}`).join(", ")})`);
  }

  /** A counter of the runner's metrics endpoint (0 while it has no sample). */
  async function runnerCounter(sample: string): Promise<number> {
    const text = await (await fetch(sandbox.env["RUNNER_METRICS_URL"]!)).text();
    const line = text.split("\n").find((entry) => entry.startsWith(`${sample} `));
    return line === undefined ? 0 : Number(line.slice(sample.length + 1));
  }
  const refusedJobs = async (): Promise<number> => runnerCounter("zoneferry_jobs_refused_total");

  async function jobCount(): Promise<number> {
    const counts = await queue!.getJobCounts("waiting", "delayed", "active", "completed", "failed", "prioritized", "waiting-children");
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  /** Waits until the job `id` has finished (the runner took it); answers what it returned. */
  async function finishedJob(id: string, withinMs = 60_000): Promise<{ status?: string; message?: string }> {
    let state = "missing";
    await waitFor(async () => {
      state = (await (await queue!.getJob(id))?.getState()) ?? "missing";
      return state === "completed" || state === "failed";
    }, withinMs, () => `the runner never finished job ${id} (state ${state})`);
    const job = (await queue!.getJob(id))!;
    return (state === "completed" ? job.returnvalue : { status: "failed", message: job.failedReason }) as { status?: string; message?: string };
  }

  /** What a user checks of a claim nobody was allowed to touch: Bound to its disk, policy Delete, content kept. */
  async function assertClaimUntouched(namespace: string, claim: string, disk: string, content: string): Promise<void> {
    const pvc = JSON.parse(await kubectl("-n", namespace, "get", "pvc", claim, "-o", "json")) as { spec: { volumeName: string }; status: { phase: string } };
    assert.equal(pvc.spec.volumeName, disk, `${namespace}/${claim} is still on its own PV`);
    assert.equal(pvc.status.phase, "Bound", `${namespace}/${claim} is Bound`);
    assert.equal(await kubectl("get", "pv", disk, "-o", "jsonpath={.spec.persistentVolumeReclaimPolicy}"), "Delete", `PV ${disk} keeps its policy`);
    assert.equal(await kubectl("get", "pv", disk, "-o", "jsonpath={.spec.claimRef.namespace}/{.spec.claimRef.name}"), `${namespace}/${claim}`, `PV ${disk} still claimed by ${namespace}/${claim}`);
    assert.ok((await sandbox.inventory()).disks.some((entry) => entry.diskId === disk), `disk ${disk} exists`);
    assert.equal(await (await sandbox.emulator(`/disks/${disk}/content`)).text(), content, `disk ${disk} holds its content`);
  }

  /** A dry-run journal created as the tenant: "" when admitted, else the API server's refusal. */
  async function tenantJournalProbe(): Promise<string> {
    const file = join(sandbox.dir, "probe-journal.json");
    writeFileSync(file, JSON.stringify({ apiVersion: "zoneferry.io/v1alpha1", kind: "ZoneMigration", metadata: { name: "probe", namespace: TENANT }, spec: { statefulSet: "probe", migrationId: "probe", targetZones: ["cn-shanghai-g"] } }));
    return tenant("create", "--dry-run=server", "-f", file).then(() => "", (error: unknown) => String((error as { stderr?: string }).stderr));
  }

  /**
   * Runs `attack` with the chart's journal policy unbound (as where it is not installed, or has
   * been bypassed), then binds it again as it was and waits until the API server enforces it.
   */
  async function withoutJournalPolicy(attack: () => Promise<void>): Promise<void> {
    const bound = await kubectl("get", "validatingadmissionpolicybinding", JOURNAL_POLICY, "--ignore-not-found", "-o", "json");
    if (bound.trim() === "") {
      await attack();
      return;
    }
    const binding = JSON.parse(bound) as { metadata: Record<string, unknown> };
    const saved = join(sandbox.dir, "journal-policy-binding.json");
    writeFileSync(saved, JSON.stringify({ ...binding, metadata: { name: binding.metadata["name"], labels: binding.metadata["labels"] } }));
    await kubectl("delete", "validatingadmissionpolicybinding", JOURNAL_POLICY);
    try {
      await waitFor(async () => (await tenantJournalProbe()) === "", 30_000, () => "the journal policy was still enforced after its binding was deleted");
      await attack();
    } finally {
      await kubectl("create", "-f", saved);
      await waitFor(async () => (await tenantJournalProbe()).includes(JOURNAL_POLICY), 30_000, () => "the journal policy was not enforced again after its binding was restored");
    }
  }

  before(async () => {
    await sandbox.up();
    for (const namespace of [TENANT, VICTIM]) await kubectl("create", "namespace", namespace);
    // The tenant's Role: its StatefulSets, and (as a careless or generous admin grants) ZoneMigrations and their status.
    const rbac = join(sandbox.dir, "tenant-rbac.yaml");
    writeFileSync(rbac, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant, namespace: ${TENANT}}
rules:
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, patch, update]
- apiGroups: [zoneferry.io]
  resources: [zonemigrations, zonemigrations/status]
  verbs: [create, get, list, watch, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant, namespace: ${TENANT}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${TENANT}}]
`);
    await kubectl("apply", "-f", rbac);
    queue = new Queue(MIGRATION_QUEUE, { connection: { url: sandbox.env["REDIS_URL"]! } });
    redis = new Redis(sandbox.env["REDIS_URL"]!);
  });
  after(async () => {
    await queue?.close();
    redis?.disconnect();
    await sandbox.down();
  });

  it("refuses in the API server a tenant's ZoneMigration, with the journal policy's message", { skip: existsSync(POLICY_TEMPLATE) ? false : "the chart ships no admission-policies.yaml yet (issue 12, item 1: the journal policy)" }, async () => {
    const id = requestMigrationId(TENANT, "thief", { targetZones: ["cn-shanghai-g"], retry: "" });
    const file = join(sandbox.dir, "refused-journal.json");
    writeFileSync(file, JSON.stringify({ apiVersion: "zoneferry.io/v1alpha1", kind: "ZoneMigration", metadata: { name: `thief-${id}`, namespace: TENANT }, spec: { statefulSet: "thief", migrationId: id, targetZones: ["cn-shanghai-g"] } }));
    const stderr = await refusal(tenant("create", "-f", file));
    assert.match(stderr, new RegExp(`ValidatingAdmissionPolicy '${JOURNAL_POLICY}'.* denied request: zoneferry: ZoneMigration ${TENANT}/thief-${id} is the journal of a migration: only the zoneferry runner writes it, ${TENANT} may not create it`));
    assert.equal(await tenant("-n", TENANT, "get", "zonemigrations", "-o", "name"), "", "no journal was made");
  });

  it("a tenant's forged journal naming another tenant's detached disk moves nothing, with the journal policy unbound: the runner refuses a journal it did not seal, the tenant's request is held, the victim's disk, PV and claim are untouched", async () => {
    const victim = await sandbox.inNamespace(VICTIM);
    const thief = await sandbox.inNamespace(TENANT);
    await victim.statefulSet("vault", 1, { zones: ["cn-shanghai-b"] });
    await thief.statefulSet("thief", 1, { zones: ["cn-shanghai-b"] });
    const disk = await victim.diskOf("data-vault-0");
    const thiefDisk = await thief.diskOf("data-thief-0");
    // The victim scales down: its disk is detached, what the attack in the issue needed.
    await kubectl("-n", VICTIM, "scale", "statefulset", "vault", "--replicas=0");
    await waitFor(async () => (await sandbox.inventory()).disks.find((entry) => entry.diskId === disk)?.status === "Available", 60_000, () => `disk ${disk} of the scaled-down vault was not detached`);
    const id = requestMigrationId(TENANT, "thief", { targetZones: ["cn-shanghai-g"], retry: "" });
    const journal = `thief-${id}`;
    const since = await lastCall();
    const refusedBefore = await refusedJobs();
    await withoutJournalPolicy(async () => {
      // The tenant writes the journal of its own next request, planned past precheck, naming the victim's disk and PV.
      const forged = join(sandbox.dir, "forged-journal.json");
      writeFileSync(forged, JSON.stringify({
        apiVersion: "zoneferry.io/v1alpha1",
        kind: "ZoneMigration",
        metadata: { name: journal, namespace: TENANT },
        spec: {
          statefulSet: "thief",
          migrationId: id,
          targetZones: ["cn-shanghai-g"],
          request: { checkIntervalMs: 1_000, readyTimeoutMs: 60_000, healthDurationMs: 0, snapshotRetentionDays: 1, retainSource: false, strategy: "Recreate", retry: "" },
          plan: { ordinals: [{ ordinal: 0, zone: "cn-shanghai-g", volumes: [{ claim: "data-thief-0", fromZone: "cn-shanghai-b", toZone: "cn-shanghai-g", move: true }] }] },
          originalReplicas: 1,
        },
      }));
      assert.match(await tenant("create", "-f", forged), new RegExp(`zonemigration.zoneferry.io/${journal} created`));
      const status = {
        phase: "Running",
        step: "snapshot",
        message: "step snapshot",
        startedAt: new Date().toISOString(),
        checkpoint: { phase: "forward", next: 3, registered: ["protect", "scale-to-zero"], compensated: [], compensationFailures: [] },
        volumes: [{ claim: "data-thief-0", sourceDisk: disk, sourcePersistentVolume: disk, zone: "cn-shanghai-g", state: "planned" }],
      };
      await tenant("-n", TENANT, "patch", "zonemigration", journal, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status }));
      assert.equal(await tenant("-n", TENANT, "get", "zonemigration", journal, "-o", "jsonpath={.status.phase}/{.status.volumes[0].sourceDisk}"), `Running/${disk}`, "the forged journal is in the API server");

      // The reconciler (every 10 s) finds it, says it is not the runner's, and queues nothing.
      const untrusted = `ZoneMigration ${TENANT}/${journal} was not created by zoneferry's runner`;
      await waitFor(() => Promise.resolve(sandbox.logOf("runner").includes(untrusted)), 40_000, () => "the runner never looked at the forged journal");
      assert.equal(await queue!.getJob(id), undefined, "no job queued from the forged journal");
      assert.equal(await refusedJobs(), refusedBefore, "no job even reached the runner's gate");
      assert.equal(await kubectl("-n", TENANT, "get", "zonemigration", journal, "-o", "jsonpath={.status.phase}/{.status.step}/{.status.checkpoint.next}"), "Running/snapshot/3", "the runner did not advance the forged journal");

      // The tenant asks for the move the journal pretends to run: the webhook holds its StatefulSet.
      const denial = await refusal(tenant("-n", TENANT, "annotate", "statefulset", "thief", "zoneferry.io/check-interval=1s", "zoneferry.io/target-zones=cn-shanghai-g"));
      assert.match(denial, new RegExp(`admission webhook "validate.zoneferry.io" denied the request: zoneferry: StatefulSet ${TENANT}/thief is held by zoneferry migration ${id} \\(status Running, step snapshot\\)`));
      assert.doesNotMatch(denial, new RegExp(disk), "the answer names nothing of the victim's");
      // Two reconcile passes later, still nothing done for it.
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      assert.equal(await queue!.getJob(id), undefined, "no job queued for the tenant's request");
    });
    assert.equal(await thief.annotation("thief", "target-zones"), "", "the tenant's request was not admitted");
    assert.equal(await thief.annotation("thief", "status"), "");
    // No data harmed: the victim's disk, PV and claim as they were, no snapshot of the disk, no ECS write at all.
    await assertClaimUntouched(VICTIM, "data-vault-0", disk, "vault-0 rows 1..100");
    await assertClaimUntouched(TENANT, "data-thief-0", thiefDisk, "thief-0 rows 1..100");
    assert.equal(await thief.readyReplicas("thief"), 1, "the tenant's own app was never scaled down");
    assert.deepEqual((await sandbox.inventory()).snapshots.filter((snapshot) => snapshot.sourceDiskId === disk), [], "no snapshot of the victim's disk");
    assert.deepEqual(await ecsWritesSince(since), [], "no ECS call made, changed or deleted a disk or snapshot");
  });

  it("anyone reaching the webhook's port without the API server's certificate is refused 401; with it, a forged UPDATE of a kube-system StatefulSet that carries no request makes the runner write nothing to it", async (t) => {
    const system = await sandbox.inNamespace("kube-system");
    await system.statefulSet("ledger", 1, { zones: ["cn-shanghai-b"] });
    const disk = await system.diskOf("data-ledger-0");
    const live = await liveStatefulSet("kube-system", "ledger");
    const asked = (next: V1StatefulSet): void => { next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": "cn-shanghai-g" }; };
    const forged = JSON.stringify(reviewBody(update(live, asked, { user: FORGER })));
    const id = requestMigrationId("kube-system", "ledger", { targetZones: ["cn-shanghai-g"], retry: "" });
    const jobsBefore = await jobCount();
    const since = await lastCall();
    const failedBefore = await runnerCounter('zoneferry_migrations_total{result="Failed"}');

    // Without a client certificate: refused before the body is read, on both routes.
    for (const path of ["/validate", "/mutate"]) {
      const anonymous = await sandbox.callWebhook(path, forged, { asApiServer: false });
      assert.equal(anonymous.status, 401, `${path}: ${anonymous.text}`);
      assert.match(anonymous.text, /^client certificate required/);
    }
    assert.equal(await jobCount(), jobsBefore, "nothing queued without a certificate");

    // With the certificate but an object the webhook has not seen (a guessed uid): admitted unchecked, nothing queued, nothing revealed.
    const guessed = await review("/validate", JSON.stringify(reviewBody(update({ ...live, metadata: { ...live.metadata, uid: randomUUID() } }, asked, { user: FORGER }))));
    assert.equal(guessed.response.allowed, true);
    assert.deepEqual(guessed.response.warnings, [UNSEEN_WARNING]);
    assert.doesNotMatch(guessed.text, new RegExp(disk), "the answer reveals nothing of the StatefulSet's claims");
    assert.equal(await jobCount(), jobsBefore, "nothing queued for an unseen StatefulSet");

    // With the certificate and the live object: the webhook checks it as a real request and queues it.
    // Counted before: the runner may refuse the job before the answer is even read here.
    const refusedBefore = await refusedJobs();
    const seen = await review("/validate", forged);
    assert.equal(seen.response.allowed, true, seen.text);
    assert.match(seen.response.warnings?.join("\n") ?? "", new RegExp(`zoneferry.io/migration-id is not stamped with ${id}`));
    t.diagnostic(`the webhook's answer to the forged UPDATE (${Math.round(seen.ms)} ms): ${seen.text}`);
    const answeredAt = Date.now();
    // The runner takes the job and refuses it before anything, its Lease included: the live StatefulSet carries no request.
    const result = await finishedJob(id);
    assert.match(result.message ?? "", new RegExp(`^StatefulSet kube-system/ledger does not carry migration ${id}: not acted on$`));
    assert.equal(await refusedJobs(), refusedBefore + 1, "counted as a refused job");
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - answeredAt))));
    const annotations = JSON.parse(await kubectl("-n", "kube-system", "get", "statefulset", "ledger", "-o", "jsonpath={.metadata.annotations}") || "{}") as Record<string, string>;
    assert.deepEqual(Object.keys(annotations).filter((key) => key.startsWith("zoneferry.io/")), [], "the runner wrote no annotation on it");
    const reasons = (await kubectl("-n", "kube-system", "get", "events", "--field-selector", "involvedObject.name=ledger", "-o", "jsonpath={.items[*].reason}")).split(" ");
    assert.deepEqual(reasons.filter((reason) => reason.startsWith("Zoneferry")), [], "the runner recorded no Event on it");
    assert.equal(await kubectl("-n", "kube-system", "get", "zonemigrations", "-o", "name"), "", "no journal made");
    assert.equal(await kubectl("-n", "kube-system", "get", "statefulset", "ledger", "-o", "jsonpath={.spec.replicas}"), "1", "never scaled down");
    await assertClaimUntouched("kube-system", "data-ledger-0", disk, "ledger-0 rows 1..100");
    assert.deepEqual(await ecsWritesSince(since), [], "no ECS write");
    assert.equal(await runnerCounter('zoneferry_migrations_total{result="Failed"}'), failedBefore, "no migration counted");
    const leases = (await kubectl("-n", "kube-system", "get", "leases", "-o", "name")).split("\n").filter((lease) => lease.startsWith("lease.coordination.k8s.io/zoneferry-"));
    assert.deepEqual(leases, [], "no Lease written for it");
  });

  it("a forged repeat of a Failed request never runs it again: over the port and through kubectl it is denied as already ran, a job put straight into Redis is ended by the runner's gate, and the journal, the message and the source disk stay as the failure left them", async () => {
    await sandbox.statefulSet("relapse", 1, { zones: ["cn-shanghai-b"] });
    const source = await sandbox.diskOf("data-relapse-0");
    await sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateSnapshot", code: "QuotaExceed.Snapshot", times: 5 }) });
    try {
      await kubectl("-n", NS, "annotate", "statefulset", "relapse", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", "zoneferry.io/target-zones=cn-shanghai-g");
      assert.equal(await sandbox.ended("relapse", 90_000), "Failed");
    } finally {
      await sandbox.emulator("/faults", { method: "DELETE" });
    }
    await waitFor(async () => (await sandbox.readyReplicas("relapse")) === 1, 60_000, () => "relapse not Ready again after its rollback");
    const id = await sandbox.annotation("relapse", "migration-id");
    const journal = `relapse-${id}`;
    const record = await kubectl("-n", NS, "get", "zonemigration", journal, "-o", "jsonpath={.metadata.uid}");
    const message = await sandbox.annotation("relapse", "message");
    assert.match(message, /^step snapshot failed: .*QuotaExceed\.Snapshot.*; rolled back$/);
    const before = await sandbox.inventory();
    const since = await lastCall();
    const alreadyRan = new RegExp(`zoneferry: StatefulSet ${NS}/relapse: this request already ran \\(ZoneMigration ${journal} ended Failed\\), and its record is kept; to run the same request again, set zoneferry.io/retry to a new value`);

    // Over the port (the issue's forged repeat): the request shown as newly added to the live object.
    const live = await liveStatefulSet(NS, "relapse");
    const unasked = { ...live, metadata: { ...live.metadata, annotations: Object.fromEntries(Object.entries(live.metadata?.annotations ?? {}).filter(([key]) => key !== "zoneferry.io/target-zones")) } };
    const repeat = await review("/validate", JSON.stringify(reviewBody(stsRequest(live, { oldObject: unasked, operation: "UPDATE", user: FORGER }))));
    assert.equal(repeat.response.allowed, false);
    assert.match(repeat.response.status?.message ?? "", alreadyRan);

    // A forger with Redis access: the finished job removed, the same request queued again by hand.
    await (await queue!.getJob(id))?.remove();
    const refusedBefore = await refusedJobs();
    await addMigrationJob(queue!, migrationJob({ namespace: NS, name: "relapse" }, currentRequest(NS, "relapse", { "zoneferry.io/target-zones": "cn-shanghai-g" })!, FORGER));
    const result = await finishedJob(id);
    assert.match(result.message ?? "", new RegExp(`^request ${id} already ran: ZoneMigration ${journal} ended Failed at \\S+, and its record is kept; nothing was done\\. To run the same request again, set zoneferry.io/retry to a new value$`));
    assert.equal(await refusedJobs(), refusedBefore + 1, "the runner's gate counted the refused job");

    // The user (admin) repeats it through kubectl: the request taken off, then put back.
    await kubectl("-n", NS, "annotate", "statefulset", "relapse", "zoneferry.io/target-zones-");
    assert.match(await refusal(kubectl("-n", NS, "annotate", "statefulset", "relapse", "zoneferry.io/target-zones=cn-shanghai-g")), alreadyRan);

    // Nothing ran again: the same journal, as it ended; the message unchanged; the app on its source disk.
    assert.equal(await kubectl("-n", NS, "get", "zonemigration", journal, "-o", "jsonpath={.metadata.uid}/{.status.phase}"), `${record}/Failed`, "the finished journal is the same object, still Failed");
    assert.equal(await sandbox.annotation("relapse", "status"), "Failed");
    assert.equal(await sandbox.annotation("relapse", "message"), message, "the StatefulSet's message is the failure's");
    assert.equal(await sandbox.zoneOfPod("relapse-0"), "cn-shanghai-b");
    await assertClaimUntouched(NS, "data-relapse-0", source, "relapse-0 rows 1..100");
    const after = await sandbox.inventory();
    assert.equal(after.disks.length, before.disks.length, "no disk made or deleted");
    assert.equal(after.snapshots.length, before.snapshots.length, "no snapshot made");
    assert.deepEqual(await ecsWritesSince(since), [], "no ECS write");
  });

  it("bounds forged input over the port: replicas 2147483647 is denied naming MAX_REPLICAS within 2 s and the webhook stays ready, a 2.9 MB retry value is refused and queues nothing, 3,447 unknown zoneferry.io/ keys are answered within 1 s in a message under 5 KB", async (t) => {
    await sandbox.statefulSet("sized", 1, { zones: ["cn-shanghai-b"] });
    const live = await liveStatefulSet(NS, "sized");
    const forge = (change: (next: V1StatefulSet) => void): string => JSON.stringify(reviewBody(update(live, (next) => {
      next.metadata!.annotations = { ...next.metadata!.annotations, "zoneferry.io/target-zones": "cn-shanghai-g" };
      change(next);
    }, { user: FORGER })));

    const huge = forge((next) => { next.spec!.replicas = 2_147_483_647; });
    const denied = await review("/validate", huge);
    assert.equal(denied.response.allowed, false);
    assert.match(denied.response.status?.message ?? "", /spec\.replicas is 2147483647; zoneferry moves StatefulSets of at most 1000 replicas \(MAX_REPLICAS/);
    assert.ok(denied.ms < 2_000, `answered in ${Math.round(denied.ms)} ms`);
    const stamped = await review("/mutate", huge);
    assert.equal(stamped.response.allowed, true, "the mutating route answers it too (it only stamps)");
    assert.ok(stamped.ms < 2_000, `/mutate answered in ${Math.round(stamped.ms)} ms`);
    const ready = await sandbox.callWebhook("/readyz", undefined, { asApiServer: false });
    assert.deepEqual([ready.status, ready.text], [200, "ok"], "the webhook is alive and ready");

    const jobsBefore = await jobCount();
    const memoryBefore = Number(/used_memory:(\d+)/.exec(await redis!.info("memory"))?.[1]);
    const retry = forge((next) => { next.metadata!.annotations!["zoneferry.io/retry"] = "r".repeat(2_900_000); });
    for (let attempt = 0; attempt < 5; attempt++) {
      const refused = await review("/validate", retry);
      assert.equal(refused.response.allowed, false, refused.text.slice(0, 500));
      assert.match(refused.response.status?.message ?? "", /annotation zoneferry\.io\/retry: "r{80}"… \(2900000 characters\) is too long; it may have at most 63 characters/);
      assert.ok(refused.text.length < 5_000, `the answer is ${refused.text.length} characters`);
    }
    assert.equal(await jobCount(), jobsBefore, "no job queued");
    const memoryAfter = Number(/used_memory:(\d+)/.exec(await redis!.info("memory"))?.[1]);
    assert.ok(memoryAfter - memoryBefore < 1_000_000, `Redis grew by ${memoryAfter - memoryBefore} bytes after 5 requests of 2.9 MB`);

    const unknown = forge((next) => {
      for (let key = 0; key < 3_447; key++) next.metadata!.annotations![`zoneferry.io/unknown-${key}`] = "x";
    });
    const counted = await review("/validate", unknown);
    assert.equal(counted.response.allowed, false);
    const text = counted.response.status?.message ?? "";
    assert.match(text, /3442 more zoneferry\.io\/ annotations are not zoneferry annotations either; remove them/);
    assert.ok(Buffer.byteLength(text) < 5_000, `the message is ${Buffer.byteLength(text)} bytes`);
    assert.ok(counted.ms < 1_000, `answered in ${Math.round(counted.ms)} ms`);
    assert.equal(await jobCount(), jobsBefore, "no job queued");
    assert.equal((await sandbox.callWebhook("/readyz", undefined, { asApiServer: false })).status, 200);
    assert.equal(await sandbox.annotation("sized", "status"), "", "the live StatefulSet never asked for anything");
    t.diagnostic(`answered in: replicas ${Math.round(denied.ms)} ms (/mutate ${Math.round(stamped.ms)} ms), unknown keys ${Math.round(counted.ms)} ms (${Buffer.byteLength(text)} bytes); Redis grew ${memoryAfter - memoryBefore} bytes`);
  });
});
