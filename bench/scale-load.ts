/**
 * Loading the scale benchmark's cluster (bench/scale-objects.ts) into a real API server, one of
 * two ways:
 *  - `api`: every object created through kube-apiserver (and its status written, as the kubelet
 *    and the PV controller would), a bounded number in flight, in 1% slices of the target until a
 *    time budget runs out: what a cluster's own clients do, at this machine's pace;
 *  - `etcd`: one object of each kind created through the API server as above, read back, and every
 *    other one written straight into etcd in the shape the API server gave that one (its
 *    defaults, managedFields and status; a uid of its own), in transactions of up to 100. The API
 *    server serves them as any other (its watch cache reads them from etcd), and a 2-core
 *    machine loads 105,000 objects in seconds instead of the better part of an hour.
 */
import { randomUUID } from "node:crypto";
import { Agent, request, type RequestOptions } from "node:https";
import type { KubernetesObject } from "@kubernetes/client-node";
import { essdStorageClass } from "../test/support/cluster-fixtures.ts";
import { REPLICAS, SETS_PER_NAMESPACE, claimPlace, scaleNode, scaleVolume } from "./scale-objects.ts";

export interface Target {
  readonly nodes: number;
  readonly claims: number;
}

export interface Loaded extends Target {
  readonly ms: number;
  /** Requests to the API server, and transactions written to etcd. */
  readonly requests: number;
  readonly transactions: number;
}

const MERGE = "application/merge-patch+json";
const PV_STATUS = { status: { phase: "Bound" } };
const PVC_STATUS = { status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "20Gi" } } };

/** A client of the API server that sends JSON and parses only what it is asked to read: its CPU is the API server's to use. */
export class ApiClient {
  readonly #options: RequestOptions;
  readonly #agent: Agent;
  readonly #server: URL;
  requests = 0;

  constructor(server: string, tls: RequestOptions, concurrency: number) {
    this.#server = new URL(server);
    this.#agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    this.#options = tls;
  }

  /** Sends one request; 409 (already there) counts as done. Resolves to the body when `read`. */
  send(method: string, path: string, body?: unknown, options: { contentType?: string; read?: boolean } = {}): Promise<unknown> {
    const text = body === undefined ? "" : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request({
        ...this.#options,
        host: this.#server.hostname,
        port: this.#server.port,
        path,
        method,
        agent: this.#agent,
        timeout: 60_000,
        headers: { "content-type": options.contentType ?? "application/json", "content-length": Buffer.byteLength(text) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const code = res.statusCode ?? 0;
          this.requests++;
          if (code === 409 || (code >= 200 && code < 300)) resolve(options.read === true ? JSON.parse(Buffer.concat(chunks).toString()) : undefined);
          else reject(new Error(`${method} ${path}: ${code} ${Buffer.concat(chunks).toString().slice(0, 300)}`));
        });
      });
      req.once("timeout", () => { req.destroy(new Error(`${method} ${path}: no answer within 60 s`)); });
      req.once("error", reject);
      req.end(text);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Runs `work` for `from`..`to`-1, `concurrency` at a time. */
async function inParallel(from: number, to: number, concurrency: number, work: (index: number) => Promise<unknown>): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(concurrency, to - from)) }, worker));
}

async function createBasics(api: ApiClient, claims: number, concurrency: number): Promise<void> {
  await api.send("POST", "/apis/storage.k8s.io/v1/storageclasses", essdStorageClass());
  const namespaces = Math.ceil(claims / REPLICAS / SETS_PER_NAMESPACE);
  await inParallel(0, namespaces, concurrency, (index) => api.send("POST", "/api/v1/namespaces", { metadata: { name: `team-${index}` } }));
}

/** Node `index` through the API server: created, then its status posted as the kubelet does. */
async function createNode(api: ApiClient, index: number): Promise<string> {
  const node = scaleNode(index);
  const status = node.status;
  delete node.status;
  const path = `/api/v1/nodes/${node.metadata!.name!}`;
  await api.send("POST", "/api/v1/nodes", node);
  await api.send("PATCH", `${path}/status`, { status }, { contentType: MERGE });
  return path;
}

/** Claim `index` and its PV through the API server, each left Bound as the PV controller leaves them. */
async function createVolume(api: ApiClient, index: number): Promise<{ claim: string; volume: string }> {
  const [claim, pv] = scaleVolume(index);
  const { namespace } = claimPlace(index);
  const volume = `/api/v1/persistentvolumes/${pv.metadata!.name!}`;
  const claimPath = `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claim.metadata!.name!}`;
  await api.send("POST", "/api/v1/persistentvolumes", pv);
  await api.send("PATCH", `${volume}/status`, PV_STATUS, { contentType: MERGE });
  await api.send("POST", `/api/v1/namespaces/${namespace}/persistentvolumeclaims`, claim);
  await api.send("PATCH", `${claimPath}/status`, PVC_STATUS, { contentType: MERGE });
  return { claim: claimPath, volume };
}

/** Through the API server, 1% of the target at a time, until the target or the budget is reached. */
export async function loadThroughApi(api: ApiClient, target: Target, budgetMs: number, concurrency: number): Promise<Loaded> {
  const started = Date.now();
  await createBasics(api, target.claims, concurrency);
  const SLICES = 100;
  let slice = 0;
  for (; slice < SLICES && Date.now() - started < budgetMs; slice++) {
    const share = (count: number, at: number): number => Math.floor((count * at) / SLICES);
    await Promise.all([
      inParallel(share(target.nodes, slice), share(target.nodes, slice + 1), Math.max(1, concurrency / 8), (index) => createNode(api, index)),
      inParallel(share(target.claims, slice), share(target.claims, slice + 1), concurrency, (index) => createVolume(api, index)),
    ]);
  }
  const reached = (count: number): number => Math.floor((count * slice) / SLICES);
  return { nodes: reached(target.nodes), claims: reached(target.claims), ms: Date.now() - started, requests: api.requests, transactions: 0 };
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** `over` laid over `under`: objects merged key by key, anything else (arrays too) taken from `over`. */
function overlay(under: unknown, over: unknown): unknown {
  if (!isObject(under) || !isObject(over)) return over === undefined ? under : over;
  const merged: Json = { ...under };
  for (const [key, value] of Object.entries(over)) merged[key] = overlay(under[key], value);
  return merged;
}

/**
 * `built` as the API server would have stored it, from `template` (the first of its kind, as the
 * API server answered for it): its defaults, managedFields and status under `built`'s own
 * fields, a uid of its own, and no resourceVersion (etcd's revision is the object's).
 */
function serverShaped(template: Json, built: KubernetesObject): Json {
  const stored = overlay(template, built) as Json & { metadata: Json };
  stored.metadata = { ...stored.metadata, uid: randomUUID() };
  delete stored.metadata["resourceVersion"];
  return stored;
}

/** etcd's limits: 128 operations and 1.5 MiB to a request (its defaults); base64 grows a value by a third. */
const TXN_OPS = 100;
const TXN_BYTES = 900 * 1024;

class EtcdWriter {
  readonly #url: string;
  #batch: { key: string; value: string }[] = [];
  #bytes = 0;
  /** Transactions in flight; they never reject: a failure is kept and thrown by the next flush. */
  #pending: Promise<void>[] = [];
  #failure: Error | undefined;
  readonly #concurrency: number;
  transactions = 0;

  constructor(url: string, concurrency: number) {
    this.#url = url;
    this.#concurrency = concurrency;
  }

  async put(key: string, object: Json): Promise<void> {
    const value = Buffer.from(JSON.stringify(object)).toString("base64");
    this.#batch.push({ key: Buffer.from(key).toString("base64"), value });
    this.#bytes += value.length;
    if (this.#batch.length >= TXN_OPS || this.#bytes >= TXN_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#batch.length > 0) {
      const success = this.#batch.map((put) => ({ requestPut: put }));
      this.#batch = [];
      this.#bytes = 0;
      this.#pending.push(this.#send(success).catch((error: unknown) => { this.#failure ??= error as Error; }));
    }
    // A few transactions in flight: etcd applies them in turn anyway.
    while (this.#pending.length >= this.#concurrency) await this.#pending.shift();
    if (this.#failure !== undefined) throw this.#failure;
  }

  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.#pending);
    this.#pending = [];
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #send(success: readonly object[]): Promise<void> {
    const response = await fetch(`${this.#url}/v3/kv/txn`, { method: "POST", body: JSON.stringify({ success }), signal: AbortSignal.timeout(60_000) });
    const text = await response.text();
    if (!response.ok || text.includes('"error"')) throw new Error(`etcd txn: ${response.status} ${text.slice(0, 300)}`);
    this.transactions++;
  }
}

/** The first object of each kind through the API server; every other one into etcd in that one's shape. */
export async function loadIntoEtcd(api: ApiClient, etcdUrl: string, target: Target, concurrency: number): Promise<Loaded> {
  const started = Date.now();
  await createBasics(api, target.claims, concurrency);
  const nodePath = await createNode(api, 0);
  const { claim, volume } = await createVolume(api, 0);
  const [nodeTemplate, claimTemplate, volumeTemplate] = (await Promise.all([nodePath, claim, volume].map((path) => api.send("GET", path, undefined, { read: true })))) as Json[];
  const etcd = new EtcdWriter(etcdUrl, 4);
  for (let index = 1; index < target.nodes; index++) {
    const node = scaleNode(index);
    await etcd.put(`/registry/minions/${node.metadata!.name!}`, serverShaped(nodeTemplate!, node));
  }
  for (let index = 1; index < target.claims; index++) {
    const [pvc, pv] = scaleVolume(index);
    await etcd.put(`/registry/persistentvolumes/${pv.metadata!.name!}`, serverShaped(volumeTemplate!, pv));
    await etcd.put(`/registry/persistentvolumeclaims/${pvc.metadata!.namespace!}/${pvc.metadata!.name!}`, serverShaped(claimTemplate!, pvc));
  }
  await etcd.drain();
  return { ...target, ms: Date.now() - started, requests: api.requests, transactions: etcd.transactions };
}

/** How many objects the API server serves at `path` (a list of one, and the count of the rest). */
export async function served(api: ApiClient, path: string): Promise<number> {
  const list = (await api.send("GET", `${path}?limit=1`, undefined, { read: true })) as { items: unknown[]; metadata?: { remainingItemCount?: number } };
  return list.items.length + (list.metadata?.remainingItemCount ?? 0);
}
