/**
 * One run of the scale benchmark's informer view, in a process of its own so its RSS is the
 * view's: starts the webhook's view on the cluster, times it to synced(), reads its memory, then
 * (with --expose-gc) collects garbage and reads it again, checks the view answers, and prints
 * one JSON line.
 *
 *   node --expose-gc bench/scale-view-child.ts <kubeconfig> <whole|stripped|paged|paged-small-heap> <claims> <nodes>
 */
import { KubeConfig } from "@kubernetes/client-node";
import { resolveClaims } from "../core/disk-volumes.ts";
import { startInformerView, type InformerViewOptions } from "../webhook/informer-view.ts";
import { createLogger } from "../webhook/logger.ts";
import { statefulSet } from "../test/support/cluster-fixtures.ts";
import { REPLICAS, claimPlace } from "./scale-objects.ts";

const [kubeconfigFile, mode, claimsArg, nodesArg] = process.argv.slice(2);
const READY_TIMEOUT_MS = 240_000;

/** What each mode changes: today's view, the projection alone, the projection with paged lists. */
const MODES: Readonly<Record<string, Partial<InformerViewOptions>>> = {
  whole: { wholeObjects: true, listPageSize: 0 },
  stripped: { listPageSize: 0 },
  paged: {},
  "paged-small-heap": {},
};

const mib = (bytes: number): number => bytes / 1024 / 1024;

async function main(): Promise<void> {
  const options = MODES[mode ?? ""];
  if (options === undefined || kubeconfigFile === undefined) throw new Error(`usage: scale-view-child.ts <kubeconfig> <${Object.keys(MODES).join("|")}> <claims> <nodes>`);
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(kubeconfigFile);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssIdle = process.memoryUsage().rss;
  const started = performance.now();
  const view = startInformerView(kubeconfig, { logger: createLogger("warn"), ...options });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => { reject(new Error(`view not synced within ${READY_TIMEOUT_MS / 1000} s`)); }, READY_TIMEOUT_MS); });
  await Promise.race([view.whenSynced(), timeout]);
  clearTimeout(timer);
  const readyMs = performance.now() - started;
  const synced = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  // Twice, with a pause: V8 gives pages back to the system after a full collection, not during it.
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  gc?.();
  const collected = process.memoryUsage();

  // The view answers: every node, and the claims of the last StatefulSet loaded resolve to disks.
  const claims = Number(claimsArg);
  const last = claimPlace(claims - 1);
  const sts = { ...statefulSet({ name: last.statefulSet, replicas: REPLICAS }), metadata: { name: last.statefulSet, namespace: last.namespace } };
  const disks = resolveClaims(sts, view).filter((claim) => claim.kind === "disk" && claim.zone !== undefined && claim.category === "cloud_essd").length;
  const answers = view.listNodes().length === Number(nodesArg) && disks === Math.min(REPLICAS, last.ordinal + 1);
  await view.stop();
  process.stdout.write(`${JSON.stringify({
    mode,
    readyMs,
    rssIdleMiB: mib(rssIdle),
    rssSyncedMiB: mib(synced.rss),
    heapSyncedMiB: mib(synced.heapUsed),
    peakRssMiB: mib(peakRss),
    rssAfterGcMiB: gc === undefined ? undefined : mib(collected.rss),
    heapAfterGcMiB: gc === undefined ? undefined : mib(collected.heapUsed),
    answers,
  })}\n`);
}

main().then(() => { process.exit(0); }, (error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
