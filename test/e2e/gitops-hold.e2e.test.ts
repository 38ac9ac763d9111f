/**
 * A GitOps sync during a migration, on the sandbox: the manifest in Git (replicas 1, whenScaled
 * Delete) is applied again, server-side and forced as Flux and Argo CD apply, together with an
 * unrelated ConfigMap, while the runner holds the StatefulSet at 0 replicas. The whole apply goes
 * through: zoneferry holds the fields the runner set and says so in a warning, the ConfigMap is
 * created, and the migration ends with the data moved. A change of the pod template in the same
 * apply is still refused with the guard's message (docs/gitops.md, "During a move"). With the
 * mutating webhook unreachable (failurePolicy Ignore), nothing holds the fields: the validating
 * webhook refuses the sync rather than let it undo the migration.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../../sandbox/processes.ts";
import { SandboxSession } from "../support/sandbox-session.ts";

const NS = "gitops";
const FROM = "cn-shanghai-b";
const TO = "cn-shanghai-g";

describe("a GitOps sync while a migration holds a StatefulSet", () => {
  const sandbox = new SandboxSession("zf-gitops-", NS);
  const kubectl = (...args: string[]): Promise<string> => sandbox.kubectl(...args);
  const field = (kind: string, name: string, path: string): Promise<string> => kubectl("-n", NS, "get", kind, name, "-o", `jsonpath={${path}}`);
  /** Server-side, forcing conflicts with the runner's fields, as kustomize-controller and Argo CD (ServerSideApply=true) apply. */
  const sync = (file: string) => sandbox.kubectlOutput("apply", "--server-side", "--force-conflicts", "--field-manager=gitops", "-f", file);
  const createDiskDelay = (delayMs: number) => sandbox.emulator("/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "CreateDisk", delayMs, times: 1 }) });
  /** The StatefulSet's manifest as Git holds it once the user asked for the move. */
  const requested = (name: string): string => readFileSync(join(sandbox.dir, `${name}.yaml`), "utf8").replace(
    `metadata: {name: ${name}, namespace: ${NS}}`,
    `metadata: {name: ${name}, namespace: ${NS}, annotations: {zoneferry.io/target-zones: ${TO}, zoneferry.io/check-interval: 1s, zoneferry.io/ready-timeout: 1m}}`,
  );
  const git = (name: string, text: string): string => {
    const file = join(sandbox.dir, name);
    writeFileSync(file, text);
    return file;
  };
  /** Starts the move with a sync of `file` and waits until the runner is at create-disks. */
  const moveUntilCreateDisks = async (name: string, file: string): Promise<void> => {
    const atCreateDisks = await sandbox.watchStep(name, "create-disks");
    try {
      await sync(file);
      await atCreateDisks.reached;
    } finally {
      atCreateDisks.stop();
    }
  };

  before(async () => { await sandbox.up(); });
  after(async () => {
    await sandbox.emulator("/faults", { method: "DELETE" });
    await sandbox.down();
  });

  it("applies the rest of the sync with replicas and whenScaled held and a warning, refuses a template change, and the migration ends with the data moved", async () => {
    await sandbox.statefulSet("orders", 1, { zones: [FROM], whenScaled: "Delete" });
    const configMap = (value: string) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: orders-settings, namespace: ${NS}}\ndata: {pool: "${value}"}\n`;
    const request = git("orders-request.yaml", requested("orders"));
    const withConfigMap = git("orders-sync.yaml", requested("orders") + configMap("20"));
    const newImage = git("orders-new-image.yaml", requested("orders").replace("image: nginx:1.27", "image: nginx:1.28") + configMap("30"));

    // Long enough at create-disks for both applies below, whatever else the machine is doing.
    await createDiskDelay(6_000);
    await moveUntilCreateDisks("orders", request);
    assert.equal(await field("statefulset", "orders", ".spec.replicas"), "0", "the runner scaled the app to 0");

    const { stderr } = await sync(withConfigMap);
    assert.match(stderr, /Warning: zoneferry: spec\.replicas held at 0, spec\.persistentVolumeClaimRetentionPolicy\.whenScaled held at "Retain" while migration [0-9a-f]{12} runs \(step create-disks\); they are restored when the migration ends/);
    assert.equal(await field("configmap", "orders-settings", ".data.pool"), "20", "the unrelated object of the sync is applied");
    assert.equal(await field("statefulset", "orders", ".spec.replicas"), "0", "replicas held");
    assert.equal(await field("statefulset", "orders", ".spec.persistentVolumeClaimRetentionPolicy.whenScaled"), "Retain", "whenScaled held");

    await assert.rejects(sync(newImage), (error: { stderr?: string }) => {
      assert.match(String(error.stderr), /admission webhook "validate\.zoneferry\.io" denied the request: zoneferry: StatefulSet gitops\/orders is held by zoneferry migration [0-9a-f]{12} \(status Running, step create-disks\): spec\.template cannot change until the migration ends/);
      return true;
    });
    assert.equal(await field("statefulset", "orders", ".spec.template.spec.containers[0].image"), "nginx:1.27");

    assert.equal(await sandbox.ended("orders"), "Succeeded");
    assert.equal(await sandbox.zoneOfPod("orders-0"), TO);
    assert.equal(await sandbox.contentOf("data-orders-0"), "orders-0 rows 1..100");
    assert.equal(await field("statefulset", "orders", ".spec.replicas"), "1", "the runner restored the replicas");
    assert.equal(await field("statefulset", "orders", ".spec.persistentVolumeClaimRetentionPolicy.whenScaled"), "Delete", "and whenScaled");

    // Released: the next sync holds nothing and warns of nothing.
    const released = await sync(withConfigMap);
    assert.doesNotMatch(released.stderr, /zoneferry/);
  });

  it("refuses the sync when the mutating webhook does not answer, rather than let it undo the migration", async () => {
    await sandbox.statefulSet("ledger", 1, { zones: [FROM] });
    const request = git("ledger-request.yaml", requested("ledger"));
    const configuration = (await kubectl("get", "mutatingwebhookconfigurations", "-o", "name")).trim();
    const url = await kubectl("get", configuration, "-o", "jsonpath={.webhooks[0].clientConfig.url}");
    const pointTo = (target: string) => kubectl("patch", configuration, "--type=json", "-p", JSON.stringify([{ op: "replace", path: "/webhooks/0/clientConfig/url", value: target }]));
    await createDiskDelay(8_000);
    await moveUntilCreateDisks("ledger", request);
    // Nothing listens there: the API server skips the mutating webhook (failurePolicy Ignore).
    await pointTo("https://127.0.0.1:9/mutate");
    try {
      let refusal = "";
      // The API server picks the changed configuration up within a second or so; until then the sync is held, harmlessly.
      await waitFor(async () => {
        refusal = await sync(request).then(() => "", (error: unknown) => String((error as { stderr?: string }).stderr));
        return refusal !== "";
      }, 6_000, () => "the sync was never refused with the mutating webhook down");
      assert.match(refusal, /denied the request: zoneferry: StatefulSet gitops\/ledger is held by zoneferry migration [0-9a-f]{12} \(status Running, step create-disks\): spec\.replicas cannot change until the migration ends/);
      assert.equal(await field("statefulset", "ledger", ".spec.replicas"), "0", "the migration is not undone");
    } finally {
      await pointTo(url);
    }
    assert.equal(await sandbox.ended("ledger"), "Succeeded");
    assert.equal(await sandbox.contentOf("data-ledger-0"), "ledger-0 rows 1..100");
  });
});
