/**
 * Least privilege, checked both ways: every verb the chart's ClusterRoles grant is one the
 * component's code calls, and every call the code makes is granted. The code is the component's
 * import graph from its main, scanned for client-node calls (each maps to one resource and verb)
 * and for the informers it starts (list and watch). test/e2e/rbac.e2e.test.ts then runs both
 * components under these roles and completes a migration.
 *
 * OpenKruise Advanced StatefulSets (workloads.kruise) are read and written through CustomObjectsApi,
 * as journals are: a call is the kruise API's when its file is under one of CALLS_UNDER's folders
 * (the runner's runner/workload/), and an informer's when its path names apps.kruise.io. The code
 * reaches them only when WORKLOADS_KRUISE is on, so the chart grants them only with workloads.kruise.
 *
 * Exports and restores across accounts (crossAccount.enabled) write VolumeSnapshots and
 * VolumeSnapshotContents through CustomObjectsApi too: in a file that names the snapshot API
 * (snapshot.storage.k8s.io, or a SNAPSHOT_GROUP constant), a namespaced custom-object call is on
 * volumesnapshots and a cluster one on volumesnapshotcontents. Such a file may name no other
 * custom resource group, or the mapping would be ambiguous. The chart grants them, and the update
 * of the export's ConfigMap, only with crossAccount.enabled.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import type { V1ClusterRole, V1LabelSelector, V1Role, V1RoleBinding, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { KRUISE, NATIVE } from "../../core/workload/kinds.ts";
import { REPO, installValues, render, renderError, type Values } from "../support/helm.ts";

/** client-node method → "group/resource verb". */
const CALLS: Readonly<Record<string, string>> = {
  readNamespacedStatefulSet: "apps/statefulsets get",
  listNamespacedStatefulSet: "apps/statefulsets list",
  listStatefulSetForAllNamespaces: "apps/statefulsets list",
  patchNamespacedStatefulSet: "apps/statefulsets patch",
  listNamespacedPod: "/pods list",
  // Strategy Rolling's primitives (runner/pod-hold.ts, runner/eviction.ts).
  readNamespacedPod: "/pods get",
  patchNamespacedPod: "/pods patch",
  // A dry run needs the verb's grant all the same (runner/pod-hold.ts confirmHold).
  createNamespacedPod: "/pods create",
  createNamespacedPodEviction: "/pods/eviction create",
  readNamespacedConfigMap: "/configmaps get",
  createNamespacedConfigMap: "/configmaps create",
  replaceNamespacedConfigMap: "/configmaps update",
  patchNamespacedConfigMap: "/configmaps patch",
  deleteNamespacedConfigMap: "/configmaps delete",
  listNode: "/nodes list",
  readNode: "/nodes get",
  readNamespacedPersistentVolumeClaim: "/persistentvolumeclaims get",
  listNamespacedPersistentVolumeClaim: "/persistentvolumeclaims list",
  listPersistentVolumeClaimForAllNamespaces: "/persistentvolumeclaims list",
  createNamespacedPersistentVolumeClaim: "/persistentvolumeclaims create",
  deleteNamespacedPersistentVolumeClaim: "/persistentvolumeclaims delete",
  readPersistentVolume: "/persistentvolumes get",
  listPersistentVolume: "/persistentvolumes list",
  createPersistentVolume: "/persistentvolumes create",
  patchPersistentVolume: "/persistentvolumes patch",
  replacePersistentVolume: "/persistentvolumes update",
  deletePersistentVolume: "/persistentvolumes delete",
  listStorageClass: "storage.k8s.io/storageclasses list",
  readNamespacedEvent: "/events get",
  createNamespacedEvent: "/events create",
  patchNamespacedEvent: "/events patch",
  getNamespacedCustomObject: "zoneferry.io/zonemigrations get",
  listNamespacedCustomObject: "zoneferry.io/zonemigrations list",
  listClusterCustomObject: "zoneferry.io/zonemigrations list",
  createNamespacedCustomObject: "zoneferry.io/zonemigrations create",
  patchNamespacedCustomObject: "zoneferry.io/zonemigrations patch",
  deleteNamespacedCustomObject: "zoneferry.io/zonemigrations delete",
  replaceNamespacedCustomObjectStatus: "zoneferry.io/zonemigrations/status update",
  readNamespacedLease: "coordination.k8s.io/leases get",
  createNamespacedLease: "coordination.k8s.io/leases create",
  replaceNamespacedLease: "coordination.k8s.io/leases update",
  readCustomResourceDefinition: "apiextensions.k8s.io/customresourcedefinitions get",
  createCustomResourceDefinition: "apiextensions.k8s.io/customresourcedefinitions create",
  replaceCustomResourceDefinition: "apiextensions.k8s.io/customresourcedefinitions update",
};

/** The custom-object calls of the kruise API: the four the runner makes on Advanced StatefulSets. */
const KRUISE_CALLS: Readonly<Record<string, string>> = {
  getNamespacedCustomObject: `${KRUISE.group}/${KRUISE.plural} get`,
  patchNamespacedCustomObject: `${KRUISE.group}/${KRUISE.plural} patch`,
  listClusterCustomObject: `${KRUISE.group}/${KRUISE.plural} list`,
  listNamespacedCustomObject: `${KRUISE.group}/${KRUISE.plural} list`,
};

/**
 * Folders (repository-relative) whose files' calls map by their own table, ahead of CALLS: there,
 * CustomObjectsApi is the kruise API, not the journals'. Every other call (AppsV1Api's included)
 * maps by CALLS as anywhere else.
 */
const CALLS_UNDER: readonly { readonly under: string; readonly calls: Readonly<Record<string, string>> }[] = [{ under: "runner/workload/", calls: KRUISE_CALLS }];
const KRUISE_CODE = "runner/workload/kruise-statefulsets.ts";

const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";
/** The custom-object calls of a file that names the snapshot API: VolumeSnapshots are namespaced, their contents cluster-scoped. */
const SNAPSHOT_CALLS: Readonly<Record<string, string>> = {
  getNamespacedCustomObject: `${SNAPSHOT_GROUP}/volumesnapshots get`,
  getNamespacedCustomObjectStatus: `${SNAPSHOT_GROUP}/volumesnapshots/status get`,
  listNamespacedCustomObject: `${SNAPSHOT_GROUP}/volumesnapshots list`,
  createNamespacedCustomObject: `${SNAPSHOT_GROUP}/volumesnapshots create`,
  deleteNamespacedCustomObject: `${SNAPSHOT_GROUP}/volumesnapshots delete`,
  getClusterCustomObject: `${SNAPSHOT_GROUP}/volumesnapshotcontents get`,
  getClusterCustomObjectStatus: `${SNAPSHOT_GROUP}/volumesnapshotcontents/status get`,
  listClusterCustomObject: `${SNAPSHOT_GROUP}/volumesnapshotcontents list`,
  createClusterCustomObject: `${SNAPSHOT_GROUP}/volumesnapshotcontents create`,
  deleteClusterCustomObject: `${SNAPSHOT_GROUP}/volumesnapshotcontents delete`,
};
const namesSnapshotApi = (text: string): boolean => /snapshot\.storage\.k8s\.io|\bSNAPSHOT_GROUP\b/.test(text);

const relative = (file: string): string => file.slice(REPO.length + 1);
const callsOf = (file: string, text: string): Readonly<Record<string, string>> => ({
  ...CALLS,
  ...CALLS_UNDER.find((entry) => relative(file).startsWith(entry.under))?.calls,
  ...(namesSnapshotApi(text) ? SNAPSHOT_CALLS : {}),
});
/** An informer path's placeholders: the journals' constants and each workload kind's fields. */
const PLACEHOLDERS: readonly [string, string][] = [
  ["${ZONE_MIGRATION_GROUP}", "zoneferry.io"],
  ["${ZONE_MIGRATION_VERSION}", "v1alpha1"],
  ["${ZONE_MIGRATION_PLURAL}", "zonemigrations"],
  ...([["NATIVE", NATIVE], ["KRUISE", KRUISE]] as const).flatMap(([name, kind]) => (["group", "version", "plural", "apiVersion"] as const).map((field): [string, string] => [`\${${name}.${field}}`, kind[field]])),
];
const isKruise = (permission: string): boolean => permission.startsWith(`${KRUISE.group}/`);
const withoutKruise = (permissions: Set<string>): Set<string> => new Set([...permissions].filter((permission) => !isKruise(permission)));
/** What only exports and restores use: the snapshot API, and the update of the export's ConfigMap (the hold's is patched). */
const isCrossAccount = (permission: string): boolean => permission.startsWith(`${SNAPSHOT_GROUP}/`) || permission === "/configmaps update";
const withoutCrossAccount = (permissions: Set<string>): Set<string> => new Set([...permissions].filter((permission) => !isCrossAccount(permission)));

/** Every project file a main imports, transitively (relative .ts imports only). */
function importGraph(main: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    const text = readFileSync(file, "utf8");
    files.set(file, text);
    for (const [, spec] of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+\.ts)"/gms)) visit(resolve(dirname(file), spec!));
  };
  visit(join(REPO, main));
  return files;
}

/** What a component's code calls: client-node methods, and list + watch for each informer path. */
function used(main: string): Set<string> {
  const permissions = new Set<string>();
  for (const [file, text] of importGraph(main)) {
    const calls = callsOf(file, text);
    for (const [, method] of text.matchAll(/\.([a-zA-Z]+)\(/g)) {
      if (Object.hasOwn(calls, method!)) permissions.add(calls[method!]!);
    }
    // ResilientInformer({ resource, path }): a list, then a watch of that path (the resource's
    // name, the first argument, a string or template literal).
    for (const [, written] of text.matchAll(/make<[^>]+>\(\s*[`"][^`"]+[`"],\s*[`"]([^`"]+)[`"]/g)) {
      const path = PLACEHOLDERS.reduce((done, [placeholder, value]) => done.replaceAll(placeholder, value), written!);
      const match = /^\/api\/v1\/([a-z]+)$|^\/apis\/([a-z0-9.]+)\/v[0-9a-z]+\/([a-z]+)$/.exec(path);
      assert.ok(match, `informer path ${path} in ${file} is not understood`);
      const [group, resource] = match[1] === undefined ? [match[2]!, match[3]!] : ["", match[1]];
      permissions.add(`${group}/${resource} list`);
      permissions.add(`${group}/${resource} watch`);
    }
  }
  return permissions;
}

function granted(role: V1ClusterRole | V1Role): Set<string> {
  return new Set((role.rules ?? []).flatMap((rule) => (rule.apiGroups ?? []).flatMap((group) => (rule.resources ?? []).flatMap((resource) => rule.verbs.map((verb) => `${group}/${resource} ${verb}`)))));
}

const sorted = (permissions: Set<string>): string[] => [...permissions].sort();

const BASE = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });
const KRUISE_ON: Values = { ...BASE, "workloads.kruise": true };
/** Until the runner's kruise code is written, its side of the kruise checks is skipped, saying so. */
const RUNNER_KRUISE_PENDING = existsSync(join(REPO, KRUISE_CODE)) ? false : `${KRUISE_CODE} is not written yet`;
/** The same for the export and restore code: until the runner reaches a file that names the snapshot API. */
const RUNNER_CROSS_ACCOUNT_PENDING = [...importGraph("runner/main.ts").values()].some(namesSnapshotApi) ? false : "no file the runner imports names the snapshot API yet (the restore is not written)";
const CROSS_ACCOUNT_ON: Values = { ...BASE, "crossAccount.enabled": true };
const clusterRoles = (values: Values): V1ClusterRole[] => render(values).filter((object): object is V1ClusterRole => object.kind === "ClusterRole");
const roleOf = (roles: readonly V1ClusterRole[], suffix: string): V1ClusterRole => roles.find((candidate) => candidate.metadata?.name?.endsWith(suffix) === true)!;

describe("the chart's RBAC", () => {
  const roles = clusterRoles(BASE);
  const role = (suffix: string): V1ClusterRole => roleOf(roles, suffix);

  it("grants the runner exactly the verbs its steps, journal, events and reconciler call, none on Advanced StatefulSets without workloads.kruise", () => {
    assert.deepEqual(sorted(granted(role("-runner"))), sorted(withoutCrossAccount(withoutKruise(used("runner/main.ts")))));
  });

  it("grants strategy Rolling evictions, the gate's removal and the hold's ConfigMap by name, create alone unnarrowed (RBAC cannot name what a create makes)", () => {
    const rules = role("-runner").rules ?? [];
    const on = (resource: string): { verbs: string[]; names?: string[] }[] =>
      rules.filter((rule) => (rule.apiGroups ?? []).includes("") && (rule.resources ?? []).includes(resource)).map((rule) => ({ verbs: rule.verbs, ...(rule.resourceNames === undefined ? {} : { names: rule.resourceNames }) }));
    assert.deepEqual(on("configmaps"), [{ verbs: ["get", "patch", "delete"], names: ["zoneferry-held-pods"] }, { verbs: ["create"] }]);
    assert.deepEqual(on("pods/eviction"), [{ verbs: ["create"] }]);
    assert.ok(!on("pods").some((rule) => rule.verbs.includes("delete")), "pods are taken down through the Eviction API only");
  });

  it("grants the webhook exactly list and watch on what its informers read, and nothing else, Advanced StatefulSets' only with workloads.kruise", () => {
    const permissions = used("webhook/main.ts");
    assert.deepEqual(sorted(granted(role("-webhook"))), sorted(withoutKruise(permissions)));
    assert.ok([...permissions].every((permission) => / (list|watch)$/.test(permission)), "the webhook only reads");
  });

  it("gives neither component any right on Secrets, nor any wildcard", () => {
    for (const clusterRole of [...roles, ...clusterRoles(KRUISE_ON)]) {
      for (const rule of clusterRole.rules ?? []) {
        assert.ok(!(rule.resources ?? []).includes("secrets"), clusterRole.metadata?.name);
        assert.ok(![...(rule.resources ?? []), ...rule.verbs, ...(rule.apiGroups ?? [])].includes("*"), clusterRole.metadata?.name);
      }
    }
  });

  describe("with workloads.kruise (OpenKruise Advanced StatefulSets)", () => {
    const kruiseRoles = clusterRoles(KRUISE_ON);

    it("grants the runner exactly the verbs its code calls, get, list and patch on apps.kruise.io statefulsets among them", { skip: RUNNER_KRUISE_PENDING }, () => {
      assert.ok(importGraph("runner/main.ts").has(join(REPO, KRUISE_CODE)), `runner/main.ts does not reach ${KRUISE_CODE}`);
      const runner = granted(roleOf(kruiseRoles, "-runner"));
      assert.deepEqual(sorted(runner), sorted(withoutCrossAccount(used("runner/main.ts"))));
      assert.deepEqual(sorted(runner).filter(isKruise), ["apps.kruise.io/statefulsets get", "apps.kruise.io/statefulsets list", "apps.kruise.io/statefulsets patch"]);
    });

    it("grants the webhook list and watch on apps.kruise.io statefulsets for its informer, and still nothing it does not read", () => {
      const webhook = granted(roleOf(kruiseRoles, "-webhook"));
      assert.deepEqual(sorted(webhook), sorted(used("webhook/main.ts")));
      assert.deepEqual(sorted(webhook).filter(isKruise), ["apps.kruise.io/statefulsets list", "apps.kruise.io/statefulsets watch"]);
    });

    it("finds the runner's calls of the kruise API only under runner/workload/, where this test maps CustomObjectsApi to apps.kruise.io", () => {
      const mapped = (file: string): boolean => CALLS_UNDER.some((entry) => relative(file).startsWith(entry.under));
      const elsewhere = [...importGraph("runner/main.ts")]
        .filter(([file, text]) => !mapped(file) && /KRUISE\.group|["'`]apps\.kruise\.io["'`/]/.test(text) && Object.keys(KRUISE_CALLS).some((method) => text.includes(`.${method}(`)))
        .map(([file]) => relative(file));
      assert.deepEqual(elsewhere, [], "these files call CustomObjectsApi and name the kruise group: move the kruise calls under runner/workload/ (or add the folder to CALLS_UNDER)");
    });
  });

  describe("with crossAccount.enabled (exports and restores across accounts)", () => {
    const crossRoles = clusterRoles(CROSS_ACCOUNT_ON);
    const SNAPSHOT_VERBS = ["get", "create", "delete"];

    it("grants the runner exactly the verbs its code calls, its export's and restore's included", { skip: RUNNER_CROSS_ACCOUNT_PENDING }, () => {
      assert.deepEqual(sorted(granted(roleOf(crossRoles, "-runner"))), sorted(withoutKruise(used("runner/main.ts"))));
    });

    it("adds get, create and delete of VolumeSnapshots and their contents, and get and update of ConfigMaps, unnarrowed by name, and nothing else", () => {
      const rules = roleOf(crossRoles, "-runner").rules ?? [];
      const added = [...granted(roleOf(crossRoles, "-runner"))].filter((permission) => !granted(role("-runner")).has(permission));
      assert.deepEqual(added.sort(), [...SNAPSHOT_VERBS.map((verb) => `${SNAPSHOT_GROUP}/volumesnapshotcontents ${verb}`), ...SNAPSHOT_VERBS.map((verb) => `${SNAPSHOT_GROUP}/volumesnapshots ${verb}`), "/configmaps update"].sort());
      const configMaps = rules.filter((rule) => (rule.resources ?? []).includes("configmaps")).map((rule) => ({ verbs: rule.verbs, ...(rule.resourceNames === undefined ? {} : { names: rule.resourceNames }) }));
      assert.deepEqual(configMaps, [{ verbs: ["get", "patch", "delete"], names: ["zoneferry-held-pods"] }, { verbs: ["create"] }, { verbs: ["get", "update"] }]);
      assert.ok(!rules.some((rule) => (rule.resources ?? []).some((resource) => resource.startsWith("volumesnapshot") && resource.includes("/"))), "no subresource: the status is read with the object");
    });

    it("puts VolumeSnapshots in each namespace's Role and their cluster-scoped contents in the ClusterRole in namespaced mode", () => {
      const objects = render({ ...CROSS_ACCOUNT_ON, "rbac.namespaced": true, "rbac.namespaces[0]": "shop" });
      const clusterRunner = objects.find((object): object is V1ClusterRole => object.kind === "ClusterRole" && object.metadata?.name === "zf-zoneferry-runner")!;
      const shop = objects.find((object): object is V1Role => object.kind === "Role" && object.metadata?.namespace === "shop")!;
      assert.deepEqual(sorted(granted(clusterRunner)).filter((permission) => permission.startsWith(SNAPSHOT_GROUP)), SNAPSHOT_VERBS.map((verb) => `${SNAPSHOT_GROUP}/volumesnapshotcontents ${verb}`).sort());
      assert.deepEqual(sorted(granted(shop)).filter((permission) => permission.startsWith(SNAPSHOT_GROUP)), SNAPSHOT_VERBS.map((verb) => `${SNAPSHOT_GROUP}/volumesnapshots ${verb}`).sort());
      assert.ok(granted(shop).has("/configmaps update"));
    });

    it("grants nothing on the snapshot API, nor a ConfigMap update, without it, in either RBAC mode", () => {
      const namespaced = { ...BASE, "rbac.namespaced": true, "rbac.namespaces[0]": "shop" };
      for (const values of [BASE, namespaced, KRUISE_ON]) {
        const all = render(values).filter((object): object is V1ClusterRole | V1Role => object.kind === "ClusterRole" || object.kind === "Role");
        assert.deepEqual(all.flatMap((one) => [...granted(one)].filter(isCrossAccount)), []);
      }
    });

    it("finds the runner's calls of the snapshot API only in files that name no other custom resource group, where this test maps CustomObjectsApi to it", () => {
      const ambiguous = [...importGraph("runner/main.ts")]
        .filter(([, text]) => namesSnapshotApi(text) && /ZONE_MIGRATION_GROUP|["'`]zoneferry\.io["'`]|KRUISE\.group|["'`]apps\.kruise\.io["'`]/.test(text) && Object.keys(SNAPSHOT_CALLS).some((method) => text.includes(`.${method}(`)))
        .map(([file]) => relative(file));
      assert.deepEqual(ambiguous, [], "these files call CustomObjectsApi and name the snapshot API and another group: keep the snapshot calls in a file of their own");
    });
  });

  it("grants nothing on apps.kruise.io without workloads.kruise, in either RBAC mode", () => {
    const namespaced = { ...BASE, "rbac.namespaced": true, "rbac.namespaces[0]": "shop" };
    for (const values of [BASE, namespaced]) {
      const all = render(values).filter((object): object is V1ClusterRole | V1Role => object.kind === "ClusterRole" || object.kind === "Role");
      assert.deepEqual(all.flatMap((one) => [...granted(one)].filter(isKruise)), []);
    }
  });

  for (const kruise of [false, true]) {
    describe(`in namespaced mode (rbac.namespaced)${kruise ? " with workloads.kruise" : ""}`, () => {
      const values = { ...(kruise ? KRUISE_ON : BASE), "rbac.namespaced": true, "rbac.namespaces[0]": "shop", "rbac.namespaces[1]": "web" };
      const objects = render(values);
      const clusterRunner = objects.find((object): object is V1ClusterRole => object.kind === "ClusterRole" && object.metadata?.name === "zf-zoneferry-runner")!;
      const roles = objects.filter((object): object is V1Role => object.kind === "Role");
      /** Resources of the core, apps, coordination, kruise and zoneferry groups that live in a namespace. */
      const namespaced = new Set(["apps/statefulsets", "apps.kruise.io/statefulsets", "/pods", "/pods/eviction", "/configmaps", "/persistentvolumeclaims", "/events", "coordination.k8s.io/leases", "zoneferry.io/zonemigrations", "zoneferry.io/zonemigrations/status", `${SNAPSHOT_GROUP}/volumesnapshots`]);
      const runnerUses = (): Set<string> => withoutCrossAccount(kruise ? used("runner/main.ts") : withoutKruise(used("runner/main.ts")));
      const pending = kruise && RUNNER_KRUISE_PENDING;

      it("grants the runner the same verbs, its rights on namespaced objects as a Role in each listed namespace only", { skip: pending }, () => {
        assert.deepEqual(roles.map((role) => role.metadata?.namespace), ["shop", "web"]);
        for (const role of roles) {
          assert.deepEqual(sorted(new Set([...granted(clusterRunner), ...granted(role)])), sorted(runnerUses()), role.metadata?.namespace);
          assert.ok([...granted(role)].every((permission) => namespaced.has(permission.split(" ")[0]!)), "a Role grants only namespaced resources");
          if (kruise) assert.deepEqual(sorted(granted(role)).filter(isKruise), ["apps.kruise.io/statefulsets get", "apps.kruise.io/statefulsets patch"]);
        }
        const bindings = objects.filter((object): object is V1RoleBinding => object.kind === "RoleBinding");
        assert.deepEqual(bindings.map((binding) => [binding.metadata?.namespace, binding.roleRef.kind, binding.subjects?.[0]?.name, binding.subjects?.[0]?.namespace]), [
          ["shop", "Role", "zf-zoneferry-runner", "zoneferry"],
          ["web", "Role", "zf-zoneferry-runner", "zoneferry"],
        ]);
      });

      it("keeps in the ClusterRole only cluster-scoped objects and the reconciler's lists, no write on a namespaced object", () => {
        const clusterWide = [...granted(clusterRunner)].filter((permission) => namespaced.has(permission.split(" ")[0]!));
        assert.deepEqual(clusterWide.sort(), [...(kruise ? ["apps.kruise.io/statefulsets list"] : []), "apps/statefulsets list", "zoneferry.io/zonemigrations list"]);
        assert.deepEqual(sorted(granted(clusterRunner)).filter((permission) => !namespaced.has(permission.split(" ")[0]!)), sorted(new Set([...withoutCrossAccount(used("runner/main.ts"))].filter((permission) => !namespaced.has(permission.split(" ")[0]!)))));
      });

      it("sends the webhooks and the scale guards only the listed namespaces, and refuses the mode without any", () => {
        const configurations = objects.filter((object): object is V1ValidatingWebhookConfiguration => object.kind === "ValidatingWebhookConfiguration" || object.kind === "MutatingWebhookConfiguration");
        const guards = objects.filter((object) => object.metadata?.name?.endsWith("scale-guard") === true && object.kind === "ValidatingAdmissionPolicy") as unknown as { spec: { matchConstraints: { namespaceSelector: V1LabelSelector } } }[];
        const selectors = [...configurations.map((configuration) => configuration.webhooks![0]!.namespaceSelector), ...guards.map((guard) => guard.spec.matchConstraints.namespaceSelector)];
        assert.equal(selectors.length, kruise ? 4 : 3);
        for (const selector of selectors) {
          assert.deepEqual(JSON.parse(JSON.stringify(selector!.matchExpressions![1])), { key: "kubernetes.io/metadata.name", operator: "In", values: ["shop", "web"] });
        }
        assert.match(renderError({ ...BASE, "rbac.namespaced": true }), /rbac\.namespaces is required when rbac\.namespaced is true/);
      });
    });
  }
});
