/**
 * The demo (`npm run demo`, `bash scripts/demo.sh`): on a fresh sandbox, a StatefulSet on ESSD
 * disks with distinct content per disk, where its pods and disks are, and zoneferry's webhook
 * answering what Argo CD, Flux or kubectl would apply; the plan before the move (`kubectl
 * zoneferry plan`, and as a server-side dry run's warning), the move and its downtime (`kubectl
 * zoneferry describe`), and a move ECS refuses halfway, rolled back with every disk's content
 * intact; an OpenKruise Advanced StatefulSet with a reserved ordinal moved the same way. Tears the
 * sandbox down unless `--keep`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { Queue } from "bullmq";
import { MIGRATION_QUEUE } from "../core/migration-queue.ts";
import { KRUISE } from "../core/workload/kinds.ts";
import { DEFAULT_SANDBOX_DIR, down, up } from "./sandbox.ts";

const run = promisify(execFile);
const NAMESPACE = "demo";
/** The kubectl plugin's folder: on PATH, kubectl runs plugin/kubectl-zoneferry as `kubectl zoneferry`. */
const PLUGIN_DIR = join(import.meta.dirname, "../plugin");

/** `reserveOrdinals`: an OpenKruise Advanced StatefulSet (apps.kruise.io) skipping those ordinals. */
function statefulSet(name: string, storageClass: string, replicas: number, reserveOrdinals?: readonly number[]): string {
  return `apiVersion: ${reserveOrdinals === undefined ? "apps/v1" : KRUISE.apiVersion}
kind: StatefulSet
metadata: {name: ${name}, namespace: ${NAMESPACE}}
spec:
  replicas: ${replicas}
${reserveOrdinals === undefined ? "" : `  reserveOrdinals: [${reserveOrdinals.join(", ")}]\n`}  serviceName: ${name}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: nginx, image: nginx:1.27, volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec: {accessModes: [ReadWriteOnce], storageClassName: ${storageClass}, resources: {requests: {storage: 20Gi}}}
`;
}

class Demo {
  readonly #env: Readonly<Record<string, string>>;
  readonly #work = mkdtempSync(join(tmpdir(), "zf-demo-"));
  /** The demo's Advanced StatefulSets and their live ordinals; kubectl names them by their group. */
  readonly #advanced = new Map<string, readonly number[]>();

  /** `keepFiles`: the manifests stay for the user, with the sandbox; otherwise they go when the demo ends. */
  constructor(env: Readonly<Record<string, string>>, keepFiles: boolean) {
    this.#env = env;
    if (!keepFiles) process.once("exit", () => { rmSync(this.#work, { recursive: true, force: true }); });
  }

  say(text: string): void {
    process.stdout.write(`\n== ${text}\n`);
  }

  /** Runs kubectl as a user would type it; prints the command and what it printed, errors included. */
  async kubectl(args: readonly string[], options: { quiet?: boolean } = {}): Promise<{ ok: boolean; out: string }> {
    if (options.quiet !== true) process.stdout.write(`$ kubectl ${args.join(" ")}\n`);
    try {
      const { stdout, stderr } = await run(this.#env["KUBECTL"]!, [...args], { env: { ...process.env, KUBECONFIG: this.#env["KUBECONFIG"]! } });
      if (options.quiet !== true) process.stdout.write(`${stderr}${stdout}`);
      return { ok: true, out: stdout };
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      if (options.quiet !== true) process.stdout.write(stderr);
      return { ok: false, out: stderr };
    }
  }

  /**
   * `kubectl zoneferry …` as a user runs it once the plugin is on PATH (docs/kubectl-plugin.md);
   * prints the command and what it printed, and answers it.
   */
  async zoneferry(args: readonly string[]): Promise<string> {
    process.stdout.write(`$ kubectl zoneferry ${args.join(" ")}\n`);
    const env = { ...process.env, KUBECONFIG: this.#env["KUBECONFIG"]!, PATH: `${PLUGIN_DIR}:${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` };
    try {
      const { stdout, stderr } = await run(this.#env["KUBECTL"]!, ["zoneferry", ...args], { env });
      process.stdout.write(`${stderr}${stdout}`);
      return stdout;
    } catch (error) {
      const { stdout = "", stderr = String(error) } = error as { stdout?: string; stderr?: string };
      process.stdout.write(`${stderr}${stdout}`);
      return stdout;
    }
  }

  /** The downtime line `kubectl zoneferry describe` printed, for the summary. */
  static downtimeOf(described: string): string {
    return /^Downtime:\s+(.*)$/m.exec(described)?.[1] ?? "not told (no step Events)";
  }

  /** An ECS fault for the emulator to answer with (its control API, as the e2e tests inject them). */
  async fault(rule: Record<string, unknown> | undefined): Promise<void> {
    const url = `${this.#env["ECS_EMULATOR_URL"]!}/_emulator/faults`;
    await (rule === undefined ? fetch(url, { method: "DELETE" }) : fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(rule) }));
  }

  /** How kubectl names the StatefulSet `name`: `statefulset` alone is apps/v1's. */
  resource(name: string): string {
    return this.#advanced.has(name) ? `statefulsets.${KRUISE.group}` : "statefulset";
  }

  /** Its ordinals: 0 up to `replicas`, or an Advanced StatefulSet's live ones. */
  #ordinals(name: string, replicas: number): readonly number[] {
    return this.#advanced.get(name) ?? Array.from({ length: replicas }, (_, ordinal) => ordinal);
  }

  /** Remembers an Advanced StatefulSet's live ordinals, for the checks below. */
  advanced(name: string, ordinals: readonly number[]): void {
    this.#advanced.set(name, ordinals);
  }

  async apply(name: string, manifest: string): Promise<void> {
    const file = join(this.#work, `${name}.yaml`);
    writeFileSync(file, manifest);
    await this.kubectl(["apply", "-f", file]);
  }

  async waitReady(name: string, replicas: number): Promise<void> {
    for (let attempt = 0; attempt < 240; attempt++) {
      const { out } = await this.kubectl(["-n", NAMESPACE, "get", this.resource(name), name, "-o", "jsonpath={.status.readyReplicas}"], { quiet: true });
      if (Number(out) === replicas) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`StatefulSet ${name} did not get ${replicas} Ready replicas`);
  }

  async writeContent(name: string, replicas: number): Promise<void> {
    for (const ordinal of this.#ordinals(name, replicas)) {
      const { out: diskId } = await this.kubectl(["-n", NAMESPACE, "get", "pvc", `www-${name}-${ordinal}`, "-o", "jsonpath={.spec.volumeName}"], { quiet: true });
      const content = `${name}-${ordinal}: orders up to #${1000 + ordinal * 17}`;
      await fetch(`${this.#env["ECS_EMULATOR_URL"]!}/_emulator/disks/${diskId}/content`, { method: "PUT", body: content });
      process.stdout.write(`disk ${diskId} (PVC www-${name}-${ordinal}) holds "${content}"\n`);
    }
  }

  /** A zone of the sandbox holding none of the StatefulSet's disks: a real move. */
  async zoneWithout(name: string, zones: readonly string[]): Promise<string> {
    const { out } = await this.kubectl(["get", "pv", "-o", "jsonpath={range .items[*]}{.spec.claimRef.name}={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}{\"\\n\"}{end}"], { quiet: true });
    const used = new Set(out.split("\n").filter((line) => line.includes(`-${name}-`)).map((line) => line.split("=")[1]));
    return zones.find((zone) => !used.has(zone)) ?? zones[0]!;
  }

  /** Prints each change of the migration's status and step until it ends; answers the final status. */
  async follow(name: string): Promise<string> {
    let last = "";
    for (let attempt = 0; attempt < 600; attempt++) {
      const { out } = await this.kubectl(["-n", NAMESPACE, "get", this.resource(name), name, "-o", "jsonpath={.metadata.annotations.zoneferry\\.io/status}|{.metadata.annotations.zoneferry\\.io/step}|{.metadata.annotations.zoneferry\\.io/message}"], { quiet: true });
      if (out !== last) {
        const [status, step, message] = out.split("|");
        process.stdout.write(`  ${new Date().toISOString().slice(11, 19)}  ${(status ?? "").padEnd(11)} ${(step ?? "").padEnd(17)} ${message ?? ""}\n`);
        last = out;
        if (["Succeeded", "Failed", "RollbackFailed"].includes(status ?? "")) return status ?? "";
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the migration of ${name} did not end`);
  }

  /** Checks that each PVC's disk still holds what was written before the move. */
  async checkContent(name: string, replicas: number): Promise<boolean> {
    let intact = true;
    for (const ordinal of this.#ordinals(name, replicas)) {
      const { out: diskId } = await this.kubectl(["-n", NAMESPACE, "get", "pvc", `www-${name}-${ordinal}`, "-o", "jsonpath={.spec.volumeName}"], { quiet: true });
      const content = await (await fetch(`${this.#env["ECS_EMULATOR_URL"]!}/_emulator/disks/${diskId}/content`)).text();
      const expected = `${name}-${ordinal}: orders up to #${1000 + ordinal * 17}`;
      intact &&= content === expected;
      process.stdout.write(`PVC www-${name}-${ordinal} -> disk ${diskId}: "${content}" ${content === expected ? "(intact)" : `(EXPECTED "${expected}")`}\n`);
    }
    return intact;
  }

  async queuedJobs(): Promise<number> {
    const queue = new Queue(MIGRATION_QUEUE, { connection: { url: this.#env["REDIS_URL"]! } });
    try {
      const counts = await queue.getJobCounts("waiting", "delayed", "active", "completed", "failed", "prioritized");
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    } finally {
      await queue.close();
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: "boolean" }, dir: { type: "string" } } });
  const dir = values.dir ?? DEFAULT_SANDBOX_DIR;
  process.stdout.write("zoneferry demo: starting the sandbox (a real control plane, kwok nodes in three zones, Redis, the ECS emulator, the disk provisioner, zoneferry's webhook)\n");
  const env = await up({ dir, log: (line) => { process.stdout.write(`[sandbox] ${line}\n`); } });
  try {
    const demo = new Demo(env, values.keep === true);
    const zones = env["SANDBOX_ZONES"]!.split(",");
    await demo.kubectl(["create", "namespace", NAMESPACE]);

    demo.say("An nginx-like StatefulSet, 2 replicas on ESSD disks (alicloud-disk-essd)");
    await demo.apply("web", statefulSet("web", "alicloud-disk-essd", 2));
    await demo.waitReady("web", 2);
    await demo.writeContent("web", 2);

    demo.say("Where its pods run, and where its disks are");
    await demo.kubectl(["get", "nodes", "-L", "topology.kubernetes.io/zone"]);
    await demo.kubectl(["-n", NAMESPACE, "get", "pods", "-o", "wide"]);
    await demo.kubectl(["get", "pv", "-o", "custom-columns=DISK:.metadata.name,PVC:.spec.claimRef.name,TYPE:.metadata.labels.csi\\.alibabacloud\\.com/disktype,ZONE:.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]"]);

    const target = await demo.zoneWithout("web", zones);

    demo.say(`What moving web to ${target} would do, planned on the live cluster before asking (kubectl zoneferry plan)`);
    await demo.zoneferry(["plan", "web", "--target-zones", target, "-n", NAMESPACE]);

    demo.say(`A server-side dry run (Argo CD diff, Flux drift check) of moving web to ${target}: the same answer with the plan as a warning, nothing queued`);
    const before = await demo.queuedJobs();
    await demo.kubectl(["-n", NAMESPACE, "annotate", "--dry-run=server", "statefulset", "web", `zoneferry.io/target-zones=${target}`, "-o", "jsonpath={.metadata.annotations.zoneferry\\.io/status}"]);
    process.stdout.write(`  <- the stamp the real apply would get\nmigration jobs queued: ${before} before, ${await demo.queuedJobs()} after the dry run\n`);

    demo.say(`Asking in earnest: move web to ${target} (as Argo CD or Flux would apply it from Git)`);
    await demo.kubectl(["-n", NAMESPACE, "annotate", "statefulset", "web", `zoneferry.io/target-zones=${target}`, "zoneferry.io/check-interval=2s"]);
    demo.say("While the migration holds web, kubectl scale is refused");
    await demo.kubectl(["-n", NAMESPACE, "scale", "statefulset", "web", "--replicas=3"]);
    demo.say("The runner's progress, step by step");
    const moved = await demo.follow("web");
    demo.say(`Result: ${moved}. Pods, disks and content after the move`);
    await demo.kubectl(["-n", NAMESPACE, "get", "pods", "-o", "wide"]);
    await demo.kubectl(["get", "pv", "-o", "custom-columns=DISK:.metadata.name,PVC:.spec.claimRef.name,ZONE:.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0],POLICY:.spec.persistentVolumeReclaimPolicy"]);
    await demo.kubectl(["-n", NAMESPACE, "get", "zonemigrations"]);
    if (!(await demo.checkContent("web", 2))) throw new Error("a PVC lost its content");
    demo.say("The migration step by step: each step's time, the waits, each volume, and the downtime (kubectl zoneferry describe)");
    const movedDowntime = Demo.downtimeOf(await demo.zoneferry(["describe", "web", "-n", NAMESPACE]));

    const spread = zones.filter((zone) => zone !== target).slice(0, 2);
    demo.say(`Spreading web across two zones: ${spread.join(",")}`);
    await demo.kubectl(["-n", NAMESPACE, "annotate", "statefulset", "web", "--overwrite", `zoneferry.io/target-zones=${spread.join(",")}`]);
    const spreadResult = await demo.follow("web");
    demo.say(`Result: ${spreadResult}`);
    await demo.kubectl(["-n", NAMESPACE, "get", "pods", "-o", "wide"]);
    if (!(await demo.checkContent("web", 2))) throw new Error("a PVC lost its content");
    process.stdout.write(`migration jobs run: ${await demo.queuedJobs()}\n`);

    demo.say(`A move ECS refuses halfway: snapshots over quota (QuotaExceed.Snapshot, injected through the ECS emulator) while web moves back to ${target}`);
    await demo.fault({ action: "CreateSnapshot", code: "QuotaExceed.Snapshot", times: 5 });
    let refused: string;
    try {
      // The move to it already ran once: a new retry value makes it a new request.
      await demo.kubectl(["-n", NAMESPACE, "annotate", "statefulset", "web", "--overwrite", `zoneferry.io/target-zones=${target}`, "zoneferry.io/retry=back"]);
      refused = await demo.follow("web");
    } finally {
      await demo.fault(undefined);
    }
    if (refused !== "Failed") throw new Error(`the refused move ended ${refused}, not Failed`);
    demo.say("Result: Failed, rolled back. web runs again where it was, on its own disks, every disk's content intact");
    await demo.waitReady("web", 2);
    await demo.kubectl(["-n", NAMESPACE, "get", "pods", "-o", "wide"]);
    if (!(await demo.checkContent("web", 2))) throw new Error("a PVC lost its content in the rollback");
    demo.say("What the rollback did, step by step (kubectl zoneferry describe), and every migration so far (kubectl zoneferry status)");
    const refusedDowntime = Demo.downtimeOf(await demo.zoneferry(["describe", "web", "-n", NAMESPACE]));
    await demo.zoneferry(["status", "-n", NAMESPACE]);
    process.stdout.write(`\ndowntime of the move to ${target}: ${movedDowntime}\ndowntime of the refused move, rolled back: ${refusedDowntime}\n`);

    demo.say("An OpenKruise Advanced StatefulSet (apps.kruise.io/v1beta1, run by the sandbox's stand-in for kruise's controller), 2 replicas with reserveOrdinals [1]: pods 0 and 2");
    demo.advanced("kv", [0, 2]);
    await demo.apply("kv", statefulSet("kv", "alicloud-disk-essd", 2, [1]));
    await demo.waitReady("kv", 2);
    await demo.writeContent("kv", 2);
    const kvTarget = await demo.zoneWithout("kv", zones);
    demo.say(`Moving kv to ${kvTarget}: the same annotation, named by its group in kubectl`);
    await demo.kubectl(["-n", NAMESPACE, "annotate", demo.resource("kv"), "kv", `zoneferry.io/target-zones=${kvTarget}`, "zoneferry.io/check-interval=2s"]);
    const kvMoved = await demo.follow("kv");
    if (kvMoved !== "Succeeded") throw new Error(`the move of kv ended ${kvMoved}`);
    await demo.kubectl(["-n", NAMESPACE, "get", "pods", "-l", "app=kv", "-o", "wide"]);
    if (!(await demo.checkContent("kv", 2))) throw new Error("a PVC of kv lost its content");

    demo.say("A StatefulSet on SSD disks (alicloud-disk-ssd) cannot move: the webhook says which PVCs and why");
    await demo.apply("legacy", statefulSet("legacy", "alicloud-disk-ssd", 1));
    await demo.waitReady("legacy", 1);
    await demo.kubectl(["-n", NAMESPACE, "annotate", "statefulset", "legacy", `zoneferry.io/target-zones=${await demo.zoneWithout("legacy", zones)}`]);

    demo.say("A target zone without nodes is refused, counting the nodes seen there");
    await demo.apply("cache", statefulSet("cache", "alicloud-disk-essd", 1));
    await demo.waitReady("cache", 1);
    await demo.kubectl(["-n", NAMESPACE, "annotate", "statefulset", "cache", "zoneferry.io/target-zones=cn-shanghai-x"]);

    demo.say("A malformed annotation is refused with what is allowed");
    await demo.kubectl(["-n", NAMESPACE, "annotate", "statefulset", "cache", `zoneferry.io/target-zones=${await demo.zoneWithout("cache", zones)}`, "zoneferry.io/ready-timeout=soon"]);
    process.stdout.write("\ndemo finished\n");
  } finally {
    if (values.keep === true) {
      process.stdout.write(`\nthe sandbox keeps running: . ${dir}/env; $KUBECTL get pods -A; PATH=${PLUGIN_DIR}:$PATH $KUBECTL zoneferry status -A; npm run sandbox -- down\n`);
    } else {
      await down(dir);
      process.stdout.write("sandbox stopped\n");
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
