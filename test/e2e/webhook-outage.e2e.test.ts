/**
 * A webhook outage on the sandbox (its webhook process stopped with SIGSTOP, as a hung or
 * unreachable pod looks to the API server): the runner's own writes never go through the webhook,
 * so a migration goes on; users' writes to StatefulSets zoneferry does not hold never wait on it;
 * and a StatefulSet under migration stays guarded, its scale refused in the API server itself.
 * The sandbox registers the chart's own admission objects (sandbox/webhook-registration.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const NS = "outage";
/** What the API server says when it gave up waiting for the webhook. */
const WEBHOOK_TIMED_OUT = /failed calling webhook "(validate|mutate)\.zoneferry\.io".*(context deadline exceeded|timeout|Timeout)/s;
const HELD = (name: string, statuses: string) => new RegExp(`ValidatingAdmissionPolicy 'zoneferry-scale-guard'.*StatefulSet ${NS}/${name} is held by zoneferry migration [0-9a-f]{12} \\(status (${statuses})`, "s");

describe("a webhook outage on the sandbox", () => {
  const sandbox = new SandboxSession("zf-outage-", NS);
  const kubectl = async (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  let paused: number | undefined;

  /** The state letter of a process in /proc (T: stopped by a signal). */
  const processState = (pid: number): string => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))![1]!;

  /** Stops the webhook process and waits until the kernel shows it stopped. */
  async function pauseWebhook(): Promise<number> {
    const pid = sandbox.pidOf("webhook");
    paused = pid;
    process.kill(pid, "SIGSTOP");
    await waitFor(() => Promise.resolve(processState(pid) === "T"), 5_000, () => `the webhook process ${pid} is not stopped (state ${processState(pid)})`);
    return pid;
  }
  async function resumeWebhook(): Promise<void> {
    const pid = paused;
    if (pid === undefined) return;
    process.kill(pid, "SIGCONT");
    paused = undefined;
    await waitFor(() => Promise.resolve(processState(pid) !== "T"), 5_000, () => `the webhook process ${pid} did not resume`);
  }

  /** The error of a command that must fail, and how long it took. */
  async function failure(...args: string[]): Promise<{ stderr: string; ms: number }> {
    const started = Date.now();
    const stderr = await kubectl(...args).then(
      (out) => assert.fail(`kubectl ${args.join(" ")} succeeded: ${out}`),
      (error: unknown) => String((error as { stderr?: string }).stderr),
    );
    return { stderr, ms: Date.now() - started };
  }

  /** Proof the outage is real: a write still sent to the webhook (a new request, dry run) times out. */
  async function assertWebhookUnreachable(name: string): Promise<void> {
    const { stderr } = await failure("-n", NS, "annotate", "--dry-run=server", "--overwrite", "statefulset", name, "zoneferry.io/retry=outage-probe");
    assert.match(stderr, WEBHOOK_TIMED_OUT);
  }

  const request = async (name: string, zone: string): Promise<string> =>
    kubectl("-n", NS, "annotate", "statefulset", name, "--overwrite", "zoneferry.io/check-interval=1s", "zoneferry.io/ready-timeout=1m", `zoneferry.io/target-zones=${zone}`);

  async function assertMovedWithData(name: string, replicas: number, zone: string): Promise<void> {
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      assert.equal(await sandbox.zoneOfPod(`${name}-${ordinal}`), zone);
      assert.equal(await sandbox.contentOf(`data-${name}-${ordinal}`), `${name}-${ordinal} rows 1..${100 + ordinal}`);
    }
  }

  before(async () => {
    await sandbox.up();
  });
  after(async () => {
    await resumeWebhook();
    await sandbox.down();
  });

  it("a migration whose webhook is paused for 20 s at the snapshot step still ends Succeeded, each claim's data on its new disk", async () => {
    await sandbox.statefulSet("paused", 2, { zones: ["cn-shanghai-b"] });
    const snapshot = await sandbox.watchStep("paused", "snapshot");
    try {
      await request("paused", "cn-shanghai-g");
      await snapshot.reached;
    } finally {
      snapshot.stop();
    }
    const pid = await pauseWebhook();
    const started = Date.now();
    try {
      await assertWebhookUnreachable("paused");
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - started))));
      assert.equal(processState(pid), "T", "still paused after 20 s");
    } finally {
      await resumeWebhook();
    }
    assert.equal(await sandbox.ended("paused", 120_000), "Succeeded", await sandbox.annotation("paused", "message"));
    await assertMovedWithData("paused", 2, "cn-shanghai-g");
  });

  it("with the webhook paused, users scale and change StatefulSets zoneferry does not hold, at once", async () => {
    await sandbox.statefulSet("bystander", 1, { zones: ["cn-shanghai-b"] });
    await pauseWebhook();
    try {
      await assertWebhookUnreachable("bystander");
      const started = Date.now();
      assert.match(await kubectl("-n", NS, "scale", "statefulset", "bystander", "--replicas=2"), /scaled/);
      // A StatefulSet zoneferry moved before (annotated, its migration Succeeded) is not held either.
      assert.match(await kubectl("-n", NS, "scale", "statefulset", "paused", "--replicas=3"), /scaled/);
      assert.match(await kubectl("-n", NS, "label", "statefulset", "paused", "tier=db"), /labeled/);
      assert.ok(Date.now() - started < 4_000, `no write waited for the webhook's 5 s timeout (took ${Date.now() - started} ms)`);
    } finally {
      await resumeWebhook();
    }
    assert.equal(await kubectl("-n", NS, "get", "statefulset", "bystander", "-o", "jsonpath={.spec.replicas}"), "2");
    assert.equal(await kubectl("-n", NS, "get", "statefulset", "paused", "-o", "jsonpath={.spec.replicas}"), "3");
  });

  it("refuses kubectl scale of a StatefulSet under migration, with the webhook up and with it paused, and the migration ends Succeeded", async () => {
    await sandbox.statefulSet("held", 1, { zones: ["cn-shanghai-b"] });
    await request("held", "cn-shanghai-m");
    const up = await failure("-n", NS, "scale", "statefulset", "held", "--replicas=3");
    assert.match(up.stderr, HELD("held", "Pending|Running"));
    await pauseWebhook();
    try {
      const down = await failure("-n", NS, "scale", "statefulset", "held", "--replicas=3");
      assert.match(down.stderr, HELD("held", "Pending|Running"));
      assert.ok(down.ms < 4_000, `refused in the API server, without waiting for the webhook (took ${down.ms} ms)`);
      await assertWebhookUnreachable("held");
    } finally {
      await resumeWebhook();
    }
    assert.equal(await sandbox.ended("held", 120_000), "Succeeded", await sandbox.annotation("held", "message"));
    await assertMovedWithData("held", 1, "cn-shanghai-m");
    assert.match(await kubectl("-n", NS, "scale", "statefulset", "held", "--replicas=2"), /scaled/, "released once the migration ended");
  });
});
