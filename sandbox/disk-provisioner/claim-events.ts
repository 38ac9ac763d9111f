/**
 * Events on claims, as external-provisioner records them (ProvisioningSucceeded, ProvisioningFailed).
 * A repeat of the same event bumps its count instead of adding another object, as client-go's
 * recorder aggregates. Events are best effort: failing to record one never fails a reconcile.
 */
import { createHash } from "node:crypto";
import type { CoreV1Api, CoreV1Event, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiStatus } from "../../core/kube/api-status.ts";

/** The two event types Kubernetes knows. */
export type EventType = "Normal" | "Warning";

/** Records events whose involved object is a claim. */
export interface ClaimEvents {
  record(claim: V1PersistentVolumeClaim, type: EventType, reason: string, message: string): Promise<void>;
}

/** Leaves room for the suffix within the 253 characters of an object name. */
const MAX_CLAIM_PART = 200;

/** `component` appears as the event's source, e.g. `diskplugin.csi.alibabacloud.com_zoneferry-sandbox`. */
export function claimEvents(core: CoreV1Api, component: string, logger: Logger): ClaimEvents {
  return {
    record: async (claim, type, reason, message) => {
      const namespace = claim.metadata?.namespace ?? "default";
      const claimName = claim.metadata?.name ?? "";
      // One object per (claim, reason, message), so a repeat finds its predecessor by name.
      const digest = createHash("sha256").update(`${claim.metadata?.uid ?? ""}\n${reason}\n${message}`).digest("hex").slice(0, 16);
      const name = `${claimName.slice(0, MAX_CLAIM_PART)}.${digest}`;
      const now = new Date();
      const event: CoreV1Event = {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace,
          name: claimName,
          ...(claim.metadata?.uid === undefined ? {} : { uid: claim.metadata.uid }),
          ...(claim.metadata?.resourceVersion === undefined ? {} : { resourceVersion: claim.metadata.resourceVersion }),
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component },
        reportingComponent: component,
      };
      try {
        await upsert(core, event);
      } catch (error) {
        logger.debug({ err: error, claim: `${namespace}/${claimName}`, reason }, "could not record an event");
      }
    },
  };
}

async function upsert(core: CoreV1Api, event: CoreV1Event): Promise<void> {
  const { name = "", namespace = "" } = event.metadata;
  try {
    await core.createNamespacedEvent({ namespace, body: event });
  } catch (error) {
    if (apiStatus(error) !== 409) throw error;
    const existing = await core.readNamespacedEvent({ name, namespace });
    await core.replaceNamespacedEvent({
      name,
      namespace,
      body: { ...existing, count: (existing.count ?? 1) + 1, lastTimestamp: event.lastTimestamp ?? new Date() },
    });
  }
}
