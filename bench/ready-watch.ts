/**
 * A watch of one StatefulSet's pods (a watch sees every change; a poll could miss the moment two
 * were down): the fewest Ready at any moment, and each pod's unavailability windows, from the event
 * that showed it leave Ready (or marked for deletion, or deleted) to the event that showed a pod of
 * its name Ready again.
 */
import { Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { until } from "./migration-sandbox.ts";

export interface Unavailability {
  readonly pod: string;
  readonly fromMs: number;
  /** Undefined while the pod is still not Ready. */
  toMs?: number;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") === true && pod.metadata?.deletionTimestamp === undefined;
}

export class ReadyWatch {
  readonly #replicas: number;
  readonly #ready = new Map<string, boolean>();
  readonly #windows: Unavailability[] = [];
  #fewest: number;
  #controller: AbortController | undefined;
  #stopped = false;
  #broken: unknown;

  private constructor(replicas: number) {
    this.#replicas = replicas;
    this.#fewest = replicas;
  }

  /** Watches the pods labelled app=`app`; resolves once all `replicas` were seen. */
  static async start(kubeconfig: KubeConfig, namespace: string, app: string, replicas: number): Promise<ReadyWatch> {
    const watch = new ReadyWatch(replicas);
    watch.#controller = await new Watch(kubeconfig).watch(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: `app=${app}` }, (type: string, pod: V1Pod) => {
      watch.#seen(type, pod);
    }, (error: unknown) => {
      if (!watch.#stopped) watch.#broken = error ?? new Error("the watch ended");
    });
    await until(() => {
      watch.#check();
      return Promise.resolve(watch.#ready.size >= replicas);
    }, 30_000, `the watch to list ${app}'s ${replicas} pods`);
    return watch;
  }

  #seen(type: string, pod: V1Pod): void {
    const name = pod.metadata?.name ?? "?";
    const now = Date.now();
    const was = this.#ready.get(name);
    const ready = type !== "DELETED" && isReady(pod);
    if (was !== false && !ready) this.#windows.push({ pod: name, fromMs: now });
    if (was === false && ready) {
      const open = this.#windows.findLast((window) => window.pod === name && window.toMs === undefined);
      if (open !== undefined) open.toMs = now;
    }
    this.#ready.set(name, ready);
    this.#fewest = Math.min(this.#fewest, [...this.#ready.values()].filter(Boolean).length + Math.max(0, this.#replicas - this.#ready.size));
  }

  /**
   * Throws if the watch ended before `stop`: what it saw would be incomplete. Called synchronously
   * in `until`'s check, it ends the wait (`until` lets only a rejected promise pass as "not yet").
   */
  #check(): void {
    if (this.#broken !== undefined) throw new Error("the pod watch ended early", { cause: this.#broken });
  }

  /** Fewest Ready at any moment since all pods were first seen. */
  fewest(): number {
    this.#check();
    return this.#fewest;
  }

  windows(): readonly Unavailability[] {
    this.#check();
    return this.#windows;
  }

  /** Until `pod` has a window that closed; answers its length. */
  async closedWindow(pod: string, timeoutMs: number): Promise<number> {
    let window: Unavailability | undefined;
    await until(() => {
      this.#check();
      window = this.#windows.find((candidate) => candidate.pod === pod && candidate.toMs !== undefined);
      return Promise.resolve(window !== undefined);
    }, timeoutMs, `${pod} Ready again`, 10);
    return window!.toMs! - window!.fromMs;
  }

  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
  }
}
