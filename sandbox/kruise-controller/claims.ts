/**
 * The claims of a set's ordinals: created when missing, before their pod (a pod naming a claim
 * that does not exist would not schedule), and never changed afterwards except for the retention
 * policy's owner references. A claim that exists is the replica's data: it is not re-created,
 * resized or relabelled, whatever the templates say now.
 */
import { PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { tolerating } from "../../core/kube/api-status.ts";
import type { AdvancedSet } from "./advanced-set.ts";
import { retentionRefsUpdate } from "./claim-retention.ts";
import type { ControllerContext } from "./controller-context.ts";
import { claimsFor } from "./pod-shape.ts";

const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** Creates the claims of `ordinal` that do not exist yet, owned as the retention policy says. */
export async function ensureClaims(context: ControllerContext, set: AdvancedSet, ordinal: number): Promise<void> {
  const { namespace } = set.metadata;
  for (const claim of claimsFor(set, ordinal)) {
    const name = claim.metadata?.name ?? "";
    if (context.cache.claim(namespace, name) !== undefined) continue;
    const ownerReferences = retentionRefsUpdate(set, claim, { ordinal, condemned: false, pod: undefined }) ?? [];
    const body = { ...claim, metadata: { ...claim.metadata, ...(ownerReferences.length === 0 ? {} : { ownerReferences }) } };
    // 409: the cache was behind, and the claim exists; it is left as it is.
    if (await tolerating(409, () => context.core.createNamespacedPersistentVolumeClaim({ namespace, body })) !== undefined) {
      context.logger.info({ set: `${namespace}/${set.metadata.name}`, claim: name }, "created claim");
    }
  }
}

/**
 * Brings the owner references of the claims of every live ordinal and every existing pod in line
 * with the retention policy. Runs before any pod is deleted, so a condemned pod already owns its
 * claims (whenScaled Delete) when it goes.
 */
export async function syncClaimOwners(context: ControllerContext, set: AdvancedSet, live: readonly number[], pods: ReadonlyMap<number, V1Pod>): Promise<void> {
  const liveSet = new Set(live);
  const { namespace } = set.metadata;
  for (const ordinal of new Set([...live, ...pods.keys()])) {
    for (const wanted of claimsFor(set, ordinal)) {
      const claim = context.cache.claim(namespace, wanted.metadata?.name ?? "");
      if (claim === undefined) continue;
      const ownerReferences = retentionRefsUpdate(set, claim, { ordinal, condemned: !liveSet.has(ordinal), pod: pods.get(ordinal) });
      if (ownerReferences === undefined) continue;
      // resourceVersion makes the patch conditional: a claim changed since the cache saw it answers 409, retried next pass.
      const body = { metadata: { resourceVersion: claim.metadata?.resourceVersion, ownerReferences } };
      await tolerating(404, () => context.core.patchNamespacedPersistentVolumeClaim({ name: claim.metadata?.name ?? "", namespace, body }, MERGE));
      context.logger.info({ set: `${namespace}/${set.metadata.name}`, claim: claim.metadata?.name, owners: ownerReferences.map((ref) => `${ref.kind}/${ref.name}`) }, "claim owners follow the retention policy");
    }
  }
}
