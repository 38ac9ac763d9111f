/**
 * One resource's list+watch (client-node's ListWatch) that survives failures: when a watch fails,
 * a fresh informer lists again after a backoff and is swapped in once listed; until then the last
 * good cache keeps answering. The webhook's view and the sandbox's disk provisioner both read
 * the cluster through it.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";

export interface InformerOptions {
  readonly logger: Logger;
  /** First delay before rebuilding a failed informer; doubles up to `maxBackoffMs`. @defaultValue 500 */
  readonly backoffMs?: number;
  /** @defaultValue 30000 */
  readonly maxBackoffMs?: number;
  /** Called on every add, update and delete (a reconcile loop's trigger). */
  readonly onChange?: () => void;
}

export interface InformerSource<T extends KubernetesObject> {
  readonly resource: string;
  readonly path: string;
  readonly kubeconfig: KubeConfig;
  readonly list: () => Promise<KubernetesListObject<T>>;
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
  readonly #kubeconfig: KubeConfig;
  readonly #list: () => Promise<KubernetesListObject<T>>;
  readonly #options: Required<Omit<InformerOptions, "onChange">> & Pick<InformerOptions, "onChange">;

  constructor(source: InformerSource<T>, options: InformerOptions) {
    this.#resource = source.resource;
    this.#path = source.path;
    this.#kubeconfig = source.kubeconfig;
    this.#list = source.list;
    this.#options = { backoffMs: 500, maxBackoffMs: 30_000, ...options };
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
    const candidate = new ListWatch<T>(this.#path, new Watch(this.#kubeconfig), this.#list, false);
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
