/**
 * A list in pages (`limit` and `continue`, as client-go's informers list), each page reduced to
 * what the cache keeps before the next is asked for: a resource of 50,000 objects is never whole
 * in memory at once, only one page of it and the reduced rest.
 */
import type { KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";

/** One page of a list: at most `limit` objects, from where the previous page's `continue` left off. */
export interface ListPage {
  readonly limit: number;
  readonly _continue?: string;
}

/** Lists the resource: everything when `page` is absent, else that page of it. */
export type ListFunction<T extends KubernetesObject> = (page?: ListPage) => Promise<KubernetesListObject<T>>;

/**
 * Every object of the resource, each through `transform`, in pages of `pageSize` (0: one request).
 * The API server serves every page from the snapshot of the first, so the list is as consistent
 * as one request's, with its resourceVersion to watch from. A continue token that expires
 * mid-list (410, after minutes) fails the list, and the informer lists again from the start.
 */
export async function listInPages<T extends KubernetesObject>(list: ListFunction<T>, pageSize: number, transform: (object: T) => T): Promise<KubernetesListObject<T>> {
  if (pageSize <= 0) {
    const whole = await list();
    return { ...whole, items: whole.items.map(transform) };
  }
  const items: T[] = [];
  let page = await list({ limit: pageSize });
  for (;;) {
    for (const item of page.items) items.push(transform(item));
    const next = page.metadata?._continue;
    if (next === undefined || next === "") break;
    page = await list({ limit: pageSize, _continue: next });
  }
  // The watch starts from the snapshot's resourceVersion; the last page's continue is spent.
  const resourceVersion = page.metadata?.resourceVersion;
  return { ...page, metadata: resourceVersion === undefined ? {} : { resourceVersion }, items };
}
