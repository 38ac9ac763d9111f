/** The HTTP status of a failed Kubernetes API call, for the answers the journal expects. */

/** The status code client-node's ApiException carries; undefined for transport errors. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Runs `call`; an answer with status `status` (404 on a read, 409 on a create) yields undefined. */
export async function tolerating<T>(status: number, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (apiStatus(error) === status) return undefined;
    throw error;
  }
}
