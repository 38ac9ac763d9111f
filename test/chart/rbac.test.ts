/**
 * Least privilege, checked both ways: every verb the chart's ClusterRoles grant is one the
 * component's code calls, and every call the code makes is granted. The code is the component's
 * import graph from its main, scanned for client-node calls (each maps to one resource and verb)
 * and for the informers it starts (list and watch). test/e2e/rbac.e2e.test.ts then runs both
 * components under these roles and completes a migration.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import type { V1ClusterRole, V1LabelSelector, V1Role, V1RoleBinding, V1ValidatingWebhookConfiguration } from "@kubernetes/client-node";
import { REPO, installValues, render, renderError } from "../support/helm.ts";

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
    for (const [, method] of text.matchAll(/\.([a-zA-Z]+)\(/g)) {
      if (Object.hasOwn(CALLS, method!)) permissions.add(CALLS[method!]!);
    }
    // ResilientInformer({ resource, path }): a list, then a watch of that path.
    for (const [, written] of text.matchAll(/make<[^>]+>\(\s*"[a-z]+",\s*[`"]([^`"]+)[`"]/g)) {
      const path = written!.replace("${ZONE_MIGRATION_GROUP}", "zoneferry.io").replace("${ZONE_MIGRATION_VERSION}", "v1alpha1").replace("${ZONE_MIGRATION_PLURAL}", "zonemigrations");
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

describe("the chart's RBAC", () => {
  const roles = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" })).filter((object) => object.kind === "ClusterRole") as V1ClusterRole[];
  const role = (suffix: string): V1ClusterRole => roles.find((candidate) => candidate.metadata?.name?.endsWith(suffix) === true)!;

  it("grants the runner exactly the verbs its steps, journal, events and reconciler call", () => {
    assert.deepEqual(sorted(granted(role("-runner"))), sorted(used("runner/main.ts")));
  });

  it("grants strategy Rolling evictions, the gate's removal and the hold's ConfigMap by name, create alone unnarrowed (RBAC cannot name what a create makes)", () => {
    const rules = role("-runner").rules ?? [];
    const on = (resource: string): { verbs: string[]; names?: string[] }[] =>
      rules.filter((rule) => (rule.apiGroups ?? []).includes("") && (rule.resources ?? []).includes(resource)).map((rule) => ({ verbs: rule.verbs, ...(rule.resourceNames === undefined ? {} : { names: rule.resourceNames }) }));
    assert.deepEqual(on("configmaps"), [{ verbs: ["get", "patch", "delete"], names: ["zoneferry-held-pods"] }, { verbs: ["create"] }]);
    assert.deepEqual(on("pods/eviction"), [{ verbs: ["create"] }]);
    assert.ok(!on("pods").some((rule) => rule.verbs.includes("delete")), "pods are taken down through the Eviction API only");
  });

  it("grants the webhook exactly list and watch on what its informers read, and nothing else", () => {
    const permissions = used("webhook/main.ts");
    assert.deepEqual(sorted(granted(role("-webhook"))), sorted(permissions));
    assert.ok([...permissions].every((permission) => / (list|watch)$/.test(permission)), "the webhook only reads");
  });

  it("gives neither component any right on Secrets, nor any wildcard", () => {
    for (const clusterRole of roles) {
      for (const rule of clusterRole.rules ?? []) {
        assert.ok(!(rule.resources ?? []).includes("secrets"), clusterRole.metadata?.name);
        assert.ok(![...(rule.resources ?? []), ...rule.verbs, ...(rule.apiGroups ?? [])].includes("*"), clusterRole.metadata?.name);
      }
    }
  });

  describe("in namespaced mode (rbac.namespaced)", () => {
    const values = { ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "rbac.namespaced": true, "rbac.namespaces[0]": "shop", "rbac.namespaces[1]": "web" };
    const objects = render(values);
    const clusterRunner = objects.find((object): object is V1ClusterRole => object.kind === "ClusterRole" && object.metadata?.name === "zf-zoneferry-runner")!;
    const roles = objects.filter((object): object is V1Role => object.kind === "Role");
    /** Resources of the core, apps, coordination and zoneferry groups that live in a namespace. */
    const namespaced = new Set(["apps/statefulsets", "/pods", "/pods/eviction", "/configmaps", "/persistentvolumeclaims", "/events", "coordination.k8s.io/leases", "zoneferry.io/zonemigrations", "zoneferry.io/zonemigrations/status"]);

    it("grants the runner the same verbs, its rights on namespaced objects as a Role in each listed namespace only", () => {
      assert.deepEqual(roles.map((role) => role.metadata?.namespace), ["shop", "web"]);
      for (const role of roles) {
        assert.deepEqual(sorted(new Set([...granted(clusterRunner), ...granted(role)])), sorted(used("runner/main.ts")), role.metadata?.namespace);
        assert.ok([...granted(role)].every((permission) => namespaced.has(permission.split(" ")[0]!)), "a Role grants only namespaced resources");
      }
      const bindings = objects.filter((object): object is V1RoleBinding => object.kind === "RoleBinding");
      assert.deepEqual(bindings.map((binding) => [binding.metadata?.namespace, binding.roleRef.kind, binding.subjects?.[0]?.name, binding.subjects?.[0]?.namespace]), [
        ["shop", "Role", "zf-zoneferry-runner", "zoneferry"],
        ["web", "Role", "zf-zoneferry-runner", "zoneferry"],
      ]);
    });

    it("keeps in the ClusterRole only cluster-scoped objects and the reconciler's lists, no write on a namespaced object", () => {
      const clusterWide = [...granted(clusterRunner)].filter((permission) => namespaced.has(permission.split(" ")[0]!));
      assert.deepEqual(clusterWide.sort(), ["apps/statefulsets list", "zoneferry.io/zonemigrations list"]);
      assert.deepEqual(sorted(granted(clusterRunner)).filter((permission) => !namespaced.has(permission.split(" ")[0]!)), sorted(new Set([...used("runner/main.ts")].filter((permission) => !namespaced.has(permission.split(" ")[0]!)))));
    });

    it("sends the webhooks and the scale guard only the listed namespaces, and refuses the mode without any", () => {
      const configurations = objects.filter((object): object is V1ValidatingWebhookConfiguration => object.kind === "ValidatingWebhookConfiguration" || object.kind === "MutatingWebhookConfiguration");
      const guard = objects.find((object) => object.metadata?.name === "zf-zoneferry-scale-guard" && object.kind === "ValidatingAdmissionPolicy") as unknown as { spec: { matchConstraints: { namespaceSelector: V1LabelSelector } } };
      const selectors = [...configurations.map((configuration) => configuration.webhooks![0]!.namespaceSelector), guard.spec.matchConstraints.namespaceSelector];
      assert.equal(selectors.length, 3);
      for (const selector of selectors) {
        assert.deepEqual(JSON.parse(JSON.stringify(selector!.matchExpressions![1])), { key: "kubernetes.io/metadata.name", operator: "In", values: ["shop", "web"] });
      }
      assert.match(renderError({ ...installValues({ certs: "certManager", redis: "external", credentials: "rrsa" }), "rbac.namespaced": true }), /rbac\.namespaces is required when rbac\.namespaced is true/);
    });
  });
});
