/**
 * `kubectl zoneferry`: follow, plan and cancel zoneferry migrations from a user's kubeconfig
 * (docs/kubectl-plugin.md). Reads only, but for `cancel --yes`, which removes the request
 * annotation as a user would.
 */
import { parseArgs } from "node:util";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Event, type V1StatefulSet } from "@kubernetes/client-node";
import { migrationAssessor } from "../core/assess-migration.ts";
import { NO_CLOUD, type DiskCloud } from "../core/disk-cloud.ts";
import { OWNED_ANNOTATIONS, USER_ANNOTATIONS } from "../core/annotations.ts";
import { tolerating } from "../core/kube/api-status.ts";
import { DEFAULT_MAX_REPLICAS } from "../core/size-limits.ts";
import { ZONE_MIGRATION_GROUP, ZONE_MIGRATION_PLURAL, ZONE_MIGRATION_VERSION } from "../core/zone-migration.ts";
import type { ZoneMigrationResource } from "../runner/journal/types.ts";
import { directDiskLookup } from "../runner/direct-disk-lookup.ts";
import { liveClusterView } from "../runner/live-view.ts";
import { CloudSettingsError, cloudFromEnv, snapshotProgress } from "./cloud.ts";
import { describeMigration, statusTable } from "./format.ts";
import { planReport, proposedRequest } from "./plan.ts";

export const USAGE = `kubectl zoneferry: follow, plan and cancel zoneferry migrations

Usage:
  kubectl zoneferry plan <statefulset> --target-zones a,b [-n ns]   the placement a target-zones would get now
  kubectl zoneferry status [-n ns | -A]                             migrations with phase, step and age
  kubectl zoneferry describe <statefulset|zonemigration> [-n ns]    steps with timing, waits, volumes, replicas
  kubectl zoneferry cancel <statefulset> [-n ns] --yes              remove zoneferry.io/target-zones (cancels)

Flags: -n/--namespace, -A/--all-namespaces, --kubeconfig, --context, -h/--help
  --ecs   plan and describe also ask ECS (every check of the webhook; snapshot progress), configured
          as the runner is: ECS_REGION_ID, ECS_ENDPOINT, ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET or the
          default credential chain
`;

/** A user's mistake: printed without a stack, exit code 2. */
class UsageError extends Error {}

interface Options {
  readonly kubeconfig: KubeConfig;
  readonly namespace: string;
  readonly allNamespaces: boolean;
  readonly targetZones: string | undefined;
  readonly yes: boolean;
  /** Set with --ecs. */
  readonly cloud: DiskCloud | undefined;
  readonly out: (text: string) => void;
}

function parse(argv: readonly string[]): { command: string | undefined; names: string[]; options: Omit<Options, "out"> } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      namespace: { type: "string", short: "n" },
      "all-namespaces": { type: "boolean", short: "A" },
      "target-zones": { type: "string" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      yes: { type: "boolean", short: "y" },
      ecs: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return { command: "help", names: [], options: { kubeconfig: new KubeConfig(), namespace: "", allNamespaces: false, targetZones: undefined, yes: false, cloud: undefined } };
  const kubeconfig = new KubeConfig();
  if (values.kubeconfig === undefined) kubeconfig.loadFromDefault();
  else kubeconfig.loadFromFile(values.kubeconfig);
  if (values.context !== undefined) kubeconfig.setCurrentContext(values.context);
  const namespace = values.namespace ?? kubeconfig.getContextObject(kubeconfig.getCurrentContext())?.namespace ?? "default";
  const [command, ...names] = positionals;
  return { command, names, options: { kubeconfig, namespace, allNamespaces: values["all-namespaces"] === true, targetZones: values["target-zones"], yes: values.yes === true, cloud: values.ecs === true ? cloudFromEnv(process.env) : undefined } };
}

function oneName(names: readonly string[], what: string): string {
  if (names.length !== 1 || names[0] === "") throw new UsageError(`expected one ${what}, got ${names.length}\n\n${USAGE}`);
  return names[0]!;
}

async function readStatefulSet(options: Options, name: string): Promise<V1StatefulSet> {
  const found = await tolerating(404, () => options.kubeconfig.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ namespace: options.namespace, name }));
  if (found === undefined) throw new UsageError(`StatefulSet ${options.namespace}/${name} not found`);
  return found;
}

async function plan(options: Options, names: readonly string[]): Promise<number> {
  const name = oneName(names, "StatefulSet");
  if (options.targetZones === undefined || options.targetZones.trim() === "") throw new UsageError("plan needs --target-zones a,b");
  const sts = await readStatefulSet(options, name);
  const proposed = proposedRequest(sts, options.targetZones);
  if ("problems" in proposed) {
    options.out(`The request is invalid, admission would deny it:\n${proposed.problems.map((problem) => `  - ${problem}`).join("\n")}\n`);
    return 1;
  }
  const view = await liveClusterView(options.kubeconfig, options.namespace);
  const assessment = await migrationAssessor({ maxReplicas: DEFAULT_MAX_REPLICAS })(sts, proposed.request, view, options.cloud === undefined ? NO_CLOUD : directDiskLookup(options.cloud));
  const report = planReport(name, proposed.request, assessment, options.cloud !== undefined);
  options.out(report.text);
  return report.denied ? 1 : 0;
}

async function listMigrations(options: Options, labelSelector?: string): Promise<ZoneMigrationResource[]> {
  const custom = options.kubeconfig.makeApiClient(CustomObjectsApi);
  const target = { group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL, ...(labelSelector === undefined ? {} : { labelSelector }) };
  const list: unknown = options.allNamespaces
    ? await custom.listClusterCustomObject(target)
    : await custom.listNamespacedCustomObject({ ...target, namespace: options.namespace });
  return (list as { items?: ZoneMigrationResource[] }).items ?? [];
}

async function status(options: Options): Promise<number> {
  options.out(`${statusTable(await listMigrations(options), Date.now(), options.allNamespaces)}\n`);
  return 0;
}

/** The ZoneMigration of that name, else the newest journal of the StatefulSet of that name. */
async function findMigration(options: Options, name: string): Promise<ZoneMigrationResource> {
  const custom = options.kubeconfig.makeApiClient(CustomObjectsApi);
  const byName: unknown = await tolerating(404, () => custom.getNamespacedCustomObject({ group: ZONE_MIGRATION_GROUP, version: ZONE_MIGRATION_VERSION, plural: ZONE_MIGRATION_PLURAL, namespace: options.namespace, name }));
  if (byName !== undefined) return byName as ZoneMigrationResource;
  const journals = (await listMigrations({ ...options, allNamespaces: false })).filter((journal) => journal.spec.statefulSet === name);
  const newest = journals.sort((a, b) => String(a.metadata.creationTimestamp ?? "").localeCompare(String(b.metadata.creationTimestamp ?? ""))).at(-1);
  if (newest === undefined) throw new UsageError(`no ZoneMigration named ${name} and none of a StatefulSet ${name} in namespace ${options.namespace}`);
  return newest;
}

async function describe(options: Options, names: readonly string[]): Promise<number> {
  const migration = await findMigration(options, oneName(names, "StatefulSet or ZoneMigration"));
  const core = options.kubeconfig.makeApiClient(CoreV1Api);
  const events: CoreV1Event[] = (await core.listNamespacedEvent({ namespace: options.namespace, fieldSelector: `involvedObject.kind=StatefulSet,involvedObject.name=${migration.spec.statefulSet}` })).items;
  const snapshots = (migration.status?.volumes ?? []).flatMap((volume) => (volume.snapshot === undefined ? [] : [volume.snapshot]));
  const progress = snapshots.length === 0 ? undefined
    : options.cloud === undefined ? { note: "(snapshot progress percent: ask ECS with --ecs; the snapshot step waits until each is usable)" }
    : await snapshotProgress(options.cloud, snapshots);
  options.out(describeMigration({ migration, events, now: Date.now(), ...(progress === undefined ? {} : "note" in progress ? { snapshotNote: progress.note } : { snapshots: progress.progress }) }));
  return 0;
}

async function cancel(options: Options, names: readonly string[]): Promise<number> {
  const name = oneName(names, "StatefulSet");
  const sts = await readStatefulSet(options, name);
  const annotations = sts.metadata?.annotations ?? {};
  const target = annotations[USER_ANNOTATIONS.targetZones];
  if (target === undefined) {
    options.out(`StatefulSet ${options.namespace}/${name} carries no ${USER_ANNOTATIONS.targetZones}: nothing to cancel\n`);
    return 0;
  }
  const state = `${annotations[OWNED_ANNOTATIONS.status] ?? "no status"}${annotations[OWNED_ANNOTATIONS.step] === undefined ? "" : `, step ${annotations[OWNED_ANNOTATIONS.step]}`}`;
  if (!options.yes) {
    options.out(`Would remove ${USER_ANNOTATIONS.targetZones}=${target} from StatefulSet ${options.namespace}/${name} (${state}): a running migration rolls back, a pending one does not start. Run again with --yes to do it.\nIf Argo CD or Flux applies this StatefulSet, remove the annotation in Git instead, or the next sync asks again.\n`);
    return 1;
  }
  await options.kubeconfig.makeApiClient(AppsV1Api).patchNamespacedStatefulSet(
    { namespace: options.namespace, name, body: { metadata: { annotations: { [USER_ANNOTATIONS.targetZones]: null } } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  options.out(`statefulset.apps/${name}: ${USER_ANNOTATIONS.targetZones} removed (was ${target}, ${state}); follow with: kubectl zoneferry describe ${name} -n ${options.namespace}\n`);
  return 0;
}

/** Runs one command line; answers the exit code. */
export async function runPlugin(argv: readonly string[], out: (text: string) => void): Promise<number> {
  const { command, names, options: parsed } = parse(argv);
  const options: Options = { ...parsed, out };
  switch (command) {
    case "plan":
      return plan(options, names);
    case "status":
      return status(options);
    case "describe":
      return describe(options, names);
    case "cancel":
      return cancel(options, names);
    case undefined:
    case "help":
      out(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command ${command}\n\n${USAGE}`);
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await runPlugin(argv, (text) => { process.stdout.write(text); });
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof CloudSettingsError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true;
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = usage ? 2 : 1;
  }
}
