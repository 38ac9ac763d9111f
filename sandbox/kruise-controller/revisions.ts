/**
 * Revisions as kruise names them: `<set>-<hash of spec.template>`, carried by each pod in its
 * `controller-revision-hash` label. The hash is ours (sha256 of the template's canonical JSON, not
 * kruise's fnv over a patch): what matters is that it is stable and changes with the template.
 * Each revision is also stored as a ControllerRevision owned by the set, holding the template, so
 * a pod kept on the old revision by `partition` can be re-created from it.
 */
import { createHash } from "node:crypto";
import { AppsV1Api, type KubeConfig, type V1ControllerRevision, type V1PodTemplateSpec } from "@kubernetes/client-node";
import { apiStatus, tolerating } from "../../core/kube/api-status.ts";
import { controllerRef, podTemplate, type AdvancedSet } from "./advanced-set.ts";

export const REVISION_LABEL = "controller-revision-hash";
const HASH_LENGTH = 10;

/** JSON with object keys sorted at every depth: equal templates hash equal whatever the key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().filter((key) => record[key] !== undefined).map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The revision the set's current template makes. */
export function updateRevisionOf(set: AdvancedSet): string {
  const hash = createHash("sha256").update(canonicalJson(podTemplate(set))).digest("hex").slice(0, HASH_LENGTH);
  return `${set.metadata.name}-${hash}`;
}

/** Reads and writes the ControllerRevisions of sets; remembers which exist so a pass costs no call. */
export class RevisionStore {
  readonly #apps: AppsV1Api;
  readonly #known = new Set<string>();

  constructor(kubeconfig: KubeConfig) {
    this.#apps = kubeconfig.makeApiClient(AppsV1Api);
  }

  /** Stores the set's current template under `revision` unless already stored. */
  async ensure(set: AdvancedSet, revision: string): Promise<void> {
    // By uid: a set deleted and made again under its name has lost its revisions to the GC.
    const key = `${set.metadata.uid}/${revision}`;
    if (this.#known.has(key)) return;
    const { namespace } = set.metadata;
    const existing = await this.#apps.listNamespacedControllerRevision({ namespace });
    const owned = existing.items.filter((item) => item.metadata?.ownerReferences?.some((ref) => ref.uid === set.metadata.uid) === true);
    if (!owned.some((item) => item.metadata?.name === revision)) {
      const body: V1ControllerRevision = {
        metadata: { name: revision, namespace, labels: { ...set.spec?.selector.matchLabels, [REVISION_LABEL]: revision }, ownerReferences: [controllerRef(set)] },
        data: { spec: { template: podTemplate(set) } },
        revision: Math.max(0, ...owned.map((item) => item.revision)) + 1,
      };
      await tolerating(409, () => this.#apps.createNamespacedControllerRevision({ namespace, body }));
    }
    this.#known.add(key);
  }

  /** The template stored under `revision`, or undefined when it was never stored or is gone. */
  async template(namespace: string, revision: string): Promise<V1PodTemplateSpec | undefined> {
    try {
      const stored = await this.#apps.readNamespacedControllerRevision({ name: revision, namespace });
      return (stored.data as { spec?: { template?: V1PodTemplateSpec } } | undefined)?.spec?.template;
    } catch (error) {
      if (apiStatus(error) === 404) return undefined;
      throw error;
    }
  }
}
