/** The HTTP status of a failed Kubernetes API call, for the few answers that are not failures. */

/** The status code client-node's ApiException carries; undefined for transport errors. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Runs `call`; an answer with status `status` (404 after a delete, 409 after a create) counts as done. */
export async function tolerating<T>(status: number, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (apiStatus(error) === status) return undefined;
    throw error;
  }
}
