/**
 * Puts zoneferry in the API server's admission chain for a webhook reached by URL (the sandbox,
 * tests): the very objects the Helm chart ships (charts/zoneferry/templates/webhook-configurations.yaml,
 * admission-policies.yaml and replica-hold.yaml), rendered by helm, with each webhook's Service
 * swapped for the URL and the CA given, as controller-runtime's envtest does. The end-to-end tests so exercise what
 * users install, the policies that keep journals the runner's and the runner's writes narrow included.
 *
 * Rendered with workloads.kruise on, as the sandbox runs a stand-in of OpenKruise's controller: the
 * webhooks' and the runner-writes policy's rules for apps.kruise.io statefulsets, and the kruise
 * scale guard. An API server without kruise's CRD takes them all the same: they match nothing there.
 * `crossAccount` renders crossAccount.enabled, as the sandbox runs exports and restores: the
 * runner-writes policy then lets the runner write an export's ConfigMap, a restore's claims from a
 * VolumeSnapshot, its VolumeSnapshots and their static contents.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, loadAllYaml, type KubeConfig, type KubernetesObject, type V1StatefulSet, type V1ValidatingWebhook } from "@kubernetes/client-node";
import { helmTemplate } from "./helm.ts";

export interface WebhookEndpoint {
  /** Base URL of the webhook, e.g. https://127.0.0.1:8443 */
  readonly url: string;
  /** PEM of the CA that signed the webhook's serving certificate. */
  readonly caPem: string;
  /** The runner's username: the webhooks never see its writes (default zoneferry-runner, the sandbox's). */
  readonly runnerIdentity?: string;
  /** The namespace zoneferry is "installed" in, never intercepted (with kube-system). */
  readonly namespace?: string;
  /** crossAccount.enabled: the runner-writes policy's rules for exports and restores. @defaultValue false */
  readonly crossAccount?: boolean;
}

/** The release name: the chart's objects are called zoneferry-webhook, zoneferry-scale-guard, zoneferry-kruise-scale-guard, zoneferry-journal-writer, zoneferry-runner-writes and zoneferry-replica-hold. */
export const RELEASE = "zoneferry";
/** The chart's admission templates: the webhook configurations and scale guard, the write policies, the replica hold. */
export const ADMISSION_TEMPLATES = ["templates/webhook-configurations.yaml", "templates/admission-policies.yaml", "templates/replica-hold.yaml"] as const;

type WebhookConfiguration = KubernetesObject & { webhooks?: V1ValidatingWebhook[] };

/** The chart's admission objects, in the order the chart renders them, pointed at `endpoint`. */
export function admissionObjects(endpoint: WebhookEndpoint): KubernetesObject[] {
  const rendered = helmTemplate({
    // What every render needs; none of it reaches the admission objects.
    "ecs.regionId": "cn-shanghai",
    "redis.url": "redis://127.0.0.1:6379/0",
    "ecs.credentials.mode": "secret",
    "ecs.credentials.runner.secret.name": "unused-runner",
    "ecs.credentials.webhook.secret.name": "unused-webhook",
    "webhook.certificates.mode": "secret",
    "webhook.certificates.secret.name": "unused",
    "webhook.certificates.secret.caBundle": Buffer.from(endpoint.caPem).toString("base64"),
    "webhook.runnerIdentity": endpoint.runnerIdentity ?? "zoneferry-runner",
    "workloads.kruise": true,
    "crossAccount.enabled": endpoint.crossAccount === true,
  }, { release: RELEASE, namespace: endpoint.namespace ?? "zoneferry-system", showOnly: ADMISSION_TEMPLATES });
  const objects = (loadAllYaml(rendered) as (KubernetesObject | null)[]).filter((object): object is KubernetesObject => object !== null);
  return objects.map((object) => withUrl(object as WebhookConfiguration, endpoint.url));
}

/** Each webhook's `service` becomes `url` (base URL plus the service's path); the caBundle stays. */
function withUrl(object: WebhookConfiguration, url: string): KubernetesObject {
  if (object.webhooks === undefined) return object;
  return {
    ...object,
    webhooks: object.webhooks.map((webhook) => {
      const { service, caBundle } = webhook.clientConfig;
      if (service === undefined) throw new Error(`webhook ${webhook.name} of the chart has no service to swap for ${url}`);
      return { ...webhook, clientConfig: { url: `${url}${service.path ?? ""}`, caBundle } };
    }),
  } as KubernetesObject;
}

/**
 * Creates the chart's admission objects, or replaces them (a new URL or CA after a restart, another
 * runner identity), and returns once the API server enforces the scale guard and journal policies
 * and adds the replica hold (it compiles a policy and watches its parameters a moment after it is created).
 * The wait is on apps/v1's scale guard only: the kruise guard is the same policy of another kind,
 * made in the same moment, and its probe would need kruise's CRD, which a test's API server may lack.
 */
export async function registerWebhookConfigurations(kubeconfig: KubeConfig, endpoint: WebhookEndpoint): Promise<KubernetesObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kubeconfig);
  const objects = admissionObjects(endpoint);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  // The probe is made before the webhooks are there: its annotations would send it to them.
  await apps.deleteNamespacedStatefulSet({ name: PROBE.metadata!.name!, namespace: PROBE.metadata!.namespace! }).catch(ignoreNotFound);
  await apps.createNamespacedStatefulSet({ namespace: PROBE.metadata!.namespace!, body: PROBE });
  try {
    // The replica hold depends on neither URL nor CA nor runner identity: one already registered is
    // kept. In CI, under load, a re-registration that deleted and made it again at once saw no gate
    // added to the probe within 30 s; nothing is gained by making it again.
    const kept = await Promise.all(objects.map(async (object) => KEPT_KINDS.has(object.kind ?? "") && (await client.read(object as KubernetesObject & { metadata: { name: string } }).then(() => true, () => false))));
    const replaced = objects.filter((_, index) => !kept[index]);
    // Bindings before their policy, the policy's users before it.
    for (const object of [...replaced].reverse()) await client.delete(object).catch(ignoreNotFound);
    for (const object of replaced) await client.create(object);
    await untilScaleGuarded(apps);
    await untilJournalsGuarded(kubeconfig.makeApiClient(CustomObjectsApi));
    await untilPodsHeld(apps, kubeconfig.makeApiClient(CoreV1Api));
  } finally {
    await apps.deleteNamespacedStatefulSet({ name: PROBE.metadata!.name!, namespace: PROBE.metadata!.namespace! }).catch(ignoreNotFound);
  }
  return objects;
}

/** Admission objects registered once per API server (see registerWebhookConfigurations). */
const KEPT_KINDS: ReadonlySet<string> = new Set(["MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"]);

/** A StatefulSet a migration holds, with no pod: a dry-run scale of it is refused once the guard is on. */
const PROBE: V1StatefulSet = {
  metadata: { name: "zoneferry-admission-probe", namespace: "default", annotations: { "zoneferry.io/status": "Pending", "zoneferry.io/migration-id": "probe" } },
  spec: {
    replicas: 0,
    serviceName: "zoneferry-admission-probe",
    selector: { matchLabels: { "zoneferry.io/probe": "true" } },
    template: { metadata: { labels: { "zoneferry.io/probe": "true" } }, spec: { containers: [{ name: "probe", image: "registry.k8s.io/pause:3.10" }] } },
  },
};

async function untilScaleGuarded(apps: AppsV1Api, withinMs = 30_000): Promise<void> {
  const { name, namespace } = PROBE.metadata as { name: string; namespace: string };
  const deadline = Date.now() + withinMs;
  for (;;) {
    const refused = await apps.replaceNamespacedStatefulSetScale({ name, namespace, dryRun: "All", body: { metadata: { name, namespace }, spec: { replicas: 1 } } }).then(
      () => false,
      (error: unknown) => {
        if ((error as { code?: number }).code === 403) return true;
        throw error;
      },
    );
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`the API server did not enforce the scale guard policy within ${withinMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Until a dry-run journal by the caller (not the runner) is refused; at once when the API server
 * has no ZoneMigration CRD (nothing to guard yet; the policy covers it once it is installed).
 */
async function untilJournalsGuarded(custom: CustomObjectsApi, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  const body = { apiVersion: "zoneferry.io/v1alpha1", kind: "ZoneMigration", metadata: { name: "zoneferry-admission-probe", namespace: "default" }, spec: { statefulSet: "probe", migrationId: "probe", targetZones: ["probe"] } };
  for (;;) {
    const code = await custom.createNamespacedCustomObject({ group: "zoneferry.io", version: "v1alpha1", plural: "zonemigrations", namespace: "default", body, dryRun: "All" }).then(
      () => 201,
      (error: unknown) => (error as { code?: number }).code ?? 0,
    );
    // 403: refused by the policy; 404: no CRD; 201: admitted, the policy is not enforced yet.
    if (code === 403 || code === 404) return;
    if (Date.now() > deadline) throw new Error(`the API server did not enforce the journal policy within ${withinMs / 1000} s (a probe journal got ${code})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Until a dry-run replica of the probe, named in a zoneferry-held-pods ConfigMap with the probe's
 * uid (as runner/pod-hold.ts asks), comes back carrying the gate the replica-hold policy adds.
 */
async function untilPodsHeld(apps: AppsV1Api, core: CoreV1Api, withinMs = 60_000): Promise<void> {
  const { name, namespace } = PROBE.metadata as { name: string; namespace: string };
  const uid = (await apps.readNamespacedStatefulSet({ name, namespace })).metadata!.uid!;
  const held = { name: "zoneferry-held-pods", namespace };
  const pod = `${name}-0`;
  await core.deleteNamespacedConfigMap(held).catch(ignoreNotFound);
  await core.createNamespacedConfigMap({ namespace, body: { metadata: held, data: { [pod]: uid } } });
  const replica = {
    metadata: { name: pod, namespace, ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name, uid, controller: true }] },
    spec: { containers: [{ name: "probe", image: "registry.k8s.io/pause:3.10" }] },
  };
  const deadline = Date.now() + withinMs;
  try {
    for (;;) {
      const admitted = await core.createNamespacedPod({ namespace, body: replica, dryRun: "All" });
      if ((admitted.spec?.schedulingGates ?? []).some((gate) => gate.name === "zoneferry.io/rebind")) return;
      if (Date.now() > deadline) throw new Error(`the API server did not add the replica-hold gate within ${withinMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await core.deleteNamespacedConfigMap(held).catch(ignoreNotFound);
  }
}

function ignoreNotFound(error: unknown): void {
  if ((error as { code?: number }).code !== 404) throw error;
}
