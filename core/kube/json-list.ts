/**
 * A list request whose answer is parsed as JSON and nothing more: client-node's typed clients
 * also copy every object into its model classes (Dates included), a second copy of the whole
 * page made only to be reduced and dropped at once. The objects come out as a watch hands them
 * (plain JSON, the API server's key order), so a cache fed by both holds one kind of object.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import type { KubeConfig, KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import type { ListFunction, ListPage } from "./paged-list.ts";

/** A failed list, with the HTTP status as `code` (the informer tells 404, "not served yet", apart). */
export class ListError extends Error {
  readonly code: number;

  constructor(path: string, code: number, body: string) {
    super(`list ${path}: HTTP ${code}: ${body.slice(0, 300)}`);
    this.name = "ListError";
    this.code = code;
  }
}

/** An answer slower than this fails the list (and the informer lists again): the API server answers a page in well under a second. */
const LIST_TIMEOUT_MS = 60_000;

/** Lists `path` (as the watch of the same path sees it) with the kubeconfig's server and credentials. */
export function jsonList<T extends KubernetesObject>(kubeconfig: KubeConfig, path: string): ListFunction<T> {
  return async (page?: ListPage) => {
    const cluster = kubeconfig.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(cluster.server + path);
    if (page !== undefined) url.searchParams.set("limit", String(page.limit));
    if (page?._continue !== undefined) url.searchParams.set("continue", page._continue);
    // Per request, as client-node does: a token file or exec plugin may have rotated the credentials.
    const options: RequestOptions = { method: "GET", headers: { accept: "application/json" }, timeout: LIST_TIMEOUT_MS };
    await kubeconfig.applyToHTTPSOptions(options);
    const { code, body } = await get(url, options);
    if (code < 200 || code >= 300) throw new ListError(path, code, body);
    const list = JSON.parse(body) as KubernetesListObject<T> & { metadata?: { continue?: string } };
    // The wire's `continue` is client-node's `_continue`.
    const next = list.metadata?.continue;
    return next === undefined ? list : { ...list, metadata: { ...list.metadata, _continue: next } };
  };
}

function get(url: URL, options: RequestOptions): Promise<{ code: number; body: string }> {
  const send = url.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res: IncomingMessage) => {
      // Decoded chunk by chunk into the JS heap: one Buffer of the whole body, malloc'd outside it,
      // would leave the process's C heap grown (and fragmented) by the largest page read.
      res.setEncoding("utf8");
      let body = "";
      res.on("data", (chunk: string) => { body += chunk; });
      res.on("error", reject);
      res.on("end", () => { resolve({ code: res.statusCode ?? 0, body }); });
    });
    req.once("timeout", () => { req.destroy(new Error(`list ${url.pathname}: no answer within ${LIST_TIMEOUT_MS / 1000} s`)); });
    req.once("error", reject);
    req.end();
  });
}
