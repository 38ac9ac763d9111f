/**
 * Taking one replica down for strategy Rolling: through the Eviction API, never a plain DELETE, so
 * the PodDisruptionBudgets that cover the pod are honoured (a DELETE bypasses them). The API server
 * answers 429 when a budget allows no disruption now; that is a reason to wait, told in the budget's
 * own words, not a fault.
 */
import type { V1Eviction } from "@kubernetes/client-node";
import { apiStatus } from "../core/kube/api-status.ts";
import type { MigrationContext } from "./context.ts";
import { describeFault, PermanentMigrationError } from "./faults.ts";

/** `evicted`: the pod is going (or was already gone); otherwise the budget that refused, and why. */
export type EvictionOutcome = "evicted" | { readonly blockedBy: string; readonly message: string };

export interface EvictOptions {
  /**
   * Only this instance of the pod (its uid): after a crash, a pod of the same name the StatefulSet
   * made again is never taken down by a repeated call. The API server checks it only after the
   * budget (kubernetes pkg/registry/core/pod/storage/eviction.go): a stale uid can still spend one
   * disruption of the budget for a while, so read the pod and compare before calling.
   * @defaultValue any pod of that name
   */
  readonly uid?: string;
}

/** The StatusCause type the eviction subresource gives a budget's refusal (policy/v1 DisruptionBudgetCause). */
const DISRUPTION_BUDGET_CAUSE = "DisruptionBudget";

interface Status {
  readonly message?: string;
  readonly details?: { readonly causes?: readonly { readonly reason?: string; readonly message?: string }[] };
}

/** Evicts pod `name` of the job's namespace. */
export async function evictPod(context: MigrationContext, name: string, options: EvictOptions = {}): Promise<EvictionOutcome> {
  const { namespace } = context.job;
  const body: V1Eviction = {
    apiVersion: "policy/v1",
    kind: "Eviction",
    metadata: { name, namespace },
    ...(options.uid === undefined ? {} : { deleteOptions: { preconditions: { uid: options.uid } } }),
  };
  try {
    await context.core.createNamespacedPodEviction({ namespace, name, body });
    return "evicted";
  } catch (error) {
    return refusal(error, `${namespace}/${name}`);
  }
}

/** What an eviction's refusal means: gone already, blocked by a budget, or a fault (thrown). */
function refusal(error: unknown, pod: string): EvictionOutcome {
  const status = apiStatus(error);
  const answer = statusOf(error);
  // 404: no such pod; 409 with a uid precondition: that instance is gone, another stands in its name.
  if (status === 404 || (status === 409 && /precondition/i.test(answer?.message ?? ""))) return "evicted";
  const cause = answer?.details?.causes?.find((candidate) => candidate.reason === DISRUPTION_BUDGET_CAUSE);
  // A 429 without a budget's cause is the API server's own throttling: a transient fault, thrown.
  if (status === 429 && cause !== undefined) {
    const message = cause.message ?? answer?.message ?? "a PodDisruptionBudget allows no disruption now";
    return { blockedBy: /disruption budget (\S+)/.exec(message)?.[1] ?? "a PodDisruptionBudget", message };
  }
  // The eviction subresource refuses a pod covered by more than one budget (500): no retry mends that.
  if (status === 500 && /more than one PodDisruptionBudget/.test(answer?.message ?? "")) {
    throw new PermanentMigrationError(`pod ${pod} cannot be evicted: ${describeFault(error)}`);
  }
  throw error;
}

/** The API server's Status from client-node's ApiException body, if it is one. */
function statusOf(error: unknown): Status | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body !== "string") return typeof body === "object" && body !== null ? body : undefined;
  try {
    return JSON.parse(body) as Status;
  } catch {
    return undefined;
  }
}
