/**
 * The few Kubernetes API answers that are not failures for an idempotent caller: 404 after a
 * delete or on a read of what may be absent, 409 after a create of what may exist.
 */

/** The status code client-node's ApiException carries; undefined for transport errors. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Runs `call`; an answer with status `status` yields undefined instead of an error. */
export async function tolerating<T>(status: number, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (apiStatus(error) === status) return undefined;
    throw error;
  }
}
