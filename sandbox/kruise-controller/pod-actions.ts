/**
 * Carries out the planned actions. A refused pod create (zoneferry's admission policy holding a
 * replica down answers 403) is not an error of the set: that pod waits out a backoff of its own,
 * so the controller neither crashes nor hammers the API server, and the pod appears once the
 * refusal is lifted.
 */
import type { V1PodTemplateSpec } from "@kubernetes/client-node";
import { apiStatus } from "../../core/kube/api-status.ts";
import { messageOf } from "../disk-provisioner/provisioner-context.ts";
import { podName, podTemplate, setKey, type AdvancedSet } from "./advanced-set.ts";
import { ensureClaims } from "./claims.ts";
import type { ControllerContext } from "./controller-context.ts";
import type { PodAction } from "./plan-pods.ts";
import { podFor } from "./pod-shape.ts";

/** Where the pass is: the revision the set's template makes, and the partition a rollout stops at. */
export interface Revisions {
  readonly update: string;
  readonly current: string | undefined;
  readonly partition: number;
}

export async function carryOut(context: ControllerContext, set: AdvancedSet, action: PodAction, revisions: Revisions): Promise<void> {
  if (action.kind === "create") await createPod(context, set, action.ordinal, revisions);
  else await deletePod(context, set, action);
}

/**
 * The template a new pod of `ordinal` is made from: the set's, except below the partition during a
 * rollout, where a re-created pod stays on the current revision (upstream's newVersionedStatefulSetPod).
 */
async function templateFor(context: ControllerContext, set: AdvancedSet, ordinal: number, revisions: Revisions): Promise<{ template: V1PodTemplateSpec; revision: string }> {
  const current = revisions.current;
  if (current !== undefined && current !== revisions.update && ordinal < revisions.partition) {
    const template = await context.revisions.template(set.metadata.namespace, current);
    if (template !== undefined) return { template, revision: current };
  }
  return { template: podTemplate(set), revision: revisions.update };
}

async function createPod(context: ControllerContext, set: AdvancedSet, ordinal: number, revisions: Revisions): Promise<void> {
  const { namespace } = set.metadata;
  const name = podName(set, ordinal);
  const key = `pod/${namespace}/${name}`;
  if (!context.backoff.isDue(key)) return;
  try {
    await ensureClaims(context, set, ordinal);
    const { template, revision } = await templateFor(context, set, ordinal, revisions);
    await context.core.createNamespacedPod({ namespace, body: podFor(set, ordinal, template, revision) });
    context.backoff.succeeded(key);
    context.logger.info({ set: setKey(set), pod: name, revision }, "created pod");
  } catch (error) {
    // 409: the cache is behind and the pod exists; the next pass sees it.
    if (apiStatus(error) === 409) return;
    const delayMs = context.backoff.failed(key);
    context.logger.warn({ set: setKey(set), pod: name, status: apiStatus(error), delayMs, reason: messageOf(error) }, "pod create failed; retrying after a backoff");
  }
}

async function deletePod(context: ControllerContext, set: AdvancedSet, action: Extract<PodAction, { kind: "delete" }>): Promise<void> {
  const name = action.pod.metadata?.name ?? "";
  const uid = action.pod.metadata?.uid;
  try {
    // The uid precondition: never delete a newer pod of the same name that the cache has not seen.
    await context.core.deleteNamespacedPod({ name, namespace: set.metadata.namespace, body: uid === undefined ? {} : { preconditions: { uid } } });
    context.logger.info({ set: setKey(set), pod: name, reason: action.reason }, "deleted pod");
  } catch (error) {
    // 404: already gone; 409: the uid precondition failed, so it is gone too.
    if (apiStatus(error) !== 404 && apiStatus(error) !== 409) throw error;
  }
}
