/**
 * One resource's list+watch (client-node's ListWatch) that survives failures: when a watch fails,
 * a fresh informer lists again after a backoff and is swapped in once listed; until then the last
 * good cache keeps answering. The webhook's view and the sandbox's disk provisioner both read
 * the cluster through it. A source may reduce each object on arrival (`transform`): the cache
 * then holds only what its readers read, listed and watched alike.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { listInPages, type ListFunction } from "./paged-list.ts";

export interface InformerOptions {
  readonly logger: Logger;
  /** First delay before rebuilding a failed informer; doubles up to `maxBackoffMs`. @defaultValue 500 */
  readonly backoffMs?: number;
  /** @defaultValue 30000 */
  readonly maxBackoffMs?: number;
  /** Called on every add, update and delete (a reconcile loop's trigger). */
  readonly onChange?: () => void;
  /**
   * Objects per list request (`limit`), each page transformed before the next is asked for, so a
   * large list never arrives whole (its body, parsed, is several times the objects kept); 0 lists
   * in one request.
   * @defaultValue 0
   */
  readonly listPageSize?: number;
}

export interface InformerSource<T extends KubernetesObject> {
  readonly resource: string;
  readonly path: string;
  readonly kubeconfig: KubeConfig;
  /** Lists the resource; with `listPageSize`, it is given the page to list. */
  readonly list: ListFunction<T>;
  /**
   * What the cache keeps of each object, applied as it arrives (listed or watched), so the whole
   * object is garbage at once. It must keep the name, namespace and resourceVersion (the cache
   * files an object by the first two and resumes its watch from the third). Should answer for any
   * object, a partial one too; one that throws keeps that object whole (logged once), since
   * client-node would silently drop a watch event whose handler throws. Kept whole when absent.
   */
  readonly transform?: (object: T) => T;
}

/** One resource's list+watch that survives failures by re-listing. */
export class ResilientInformer<T extends KubernetesObject> {
  #current: ListWatch<T> | undefined;
  #synced = false;
  #stopped = false;
  #backoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #resource: string;
  readonly #path: string;
  readonly #list: () => Promise<KubernetesListObject<T>>;
  /** A watch that hands ListWatch transformed objects; a function, so the class stays covariant in T. */
  readonly #makeWatch: () => Watch;
  readonly #options: Required<Omit<InformerOptions, "onChange">> & Pick<InformerOptions, "onChange">;

  constructor(source: InformerSource<T>, options: InformerOptions) {
    this.#resource = source.resource;
    this.#path = source.path;
    this.#options = { backoffMs: 500, maxBackoffMs: 30_000, listPageSize: 0, ...options };
    const transform = source.transform === undefined ? undefined : failSafe(source.transform, source.resource, this.#options.logger);
    this.#makeWatch = transform === undefined ? () => new Watch(source.kubeconfig) : () => new TransformingWatch(source.kubeconfig, transform);
    const pageSize = this.#options.listPageSize;
    this.#list = transform === undefined && pageSize <= 0 ? () => source.list() : () => listInPages(source.list, pageSize, transform ?? ((object) => object));
    this.#backoffMs = this.#options.backoffMs;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#current?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#current?.list(namespace) ?? [];
  }

  /** Lists and starts watching; resolves once listed or failed (failures are retried). */
  async start(): Promise<void> {
    const candidate = new ListWatch<T>(this.#path, this.#makeWatch(), this.#list, false);
    const outcome: { failed: boolean; error?: unknown } = { failed: false };
    const onChange = this.#options.onChange;
    if (onChange !== undefined) {
      for (const verb of ["add", "update", "delete"] as const) candidate.on(verb, () => { onChange(); });
    }
    candidate.on("error", (error: unknown) => {
      outcome.failed = true;
      outcome.error = error;
      // A later failure of the live informer: rebuild. A failure while starting is handled below.
      if (this.#current === candidate) this.#scheduleRebuild(error);
    });
    await candidate.start();
    if (outcome.failed || this.#stopped) {
      await candidate.stop();
      // Every failed attempt schedules the next, however long the API server stays away.
      if (outcome.failed) this.#scheduleRebuild(outcome.error);
      return;
    }
    const previous = this.#current;
    this.#current = candidate;
    this.#synced = true;
    this.#backoffMs = this.#options.backoffMs;
    if (previous !== undefined) await previous.stop();
  }

  #scheduleRebuild(error: unknown): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs);
    if ((error as { code?: number }).code === 404) {
      // The resource is not served (the ZoneMigration CRD before the runner installs it): expected, quiet.
      this.#options.logger.debug({ resource: this.#resource, retryInMs: delay }, "resource not served yet; listing again later");
    } else {
      this.#options.logger.warn({ resource: this.#resource, err: error, retryInMs: delay }, "watch failed; re-listing after a backoff");
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.start();
    }, delay);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#current?.stop();
  }
}

/**
 * `transform`, but an object it throws on is kept whole: the cache holds more than it needs of it,
 * and answers right, where a dropped watch event would leave the object stale until a re-list.
 */
export function failSafe<T>(transform: (object: T) => T, resource: string, logger: Logger): (object: T) => T {
  let logged = false;
  return (object) => {
    try {
      return transform(object);
    } catch (error) {
      if (!logged) logger.warn({ resource, err: error }, "could not reduce an object on arrival; keeping it whole (logged once)");
      logged = true;
      return object;
    }
  };
}

/** The object-carrying events of a watch; ERROR carries a Status, BOOKMARK only a resourceVersion. */
const OBJECT_EVENTS: ReadonlySet<string> = new Set(["ADDED", "MODIFIED", "DELETED"]);

/** A watch whose events carry the transformed object: ListWatch caches what it is handed. */
class TransformingWatch<T extends KubernetesObject> extends Watch {
  readonly #transform: (object: T) => T;

  constructor(config: KubeConfig, transform: (object: T) => T) {
    super(config);
    this.#transform = transform;
  }

  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, queryParams, (phase: string, object: unknown) => {
      callback(phase, OBJECT_EVENTS.has(phase) ? this.#transform(object as T) : object);
    }, done);
  }
}
