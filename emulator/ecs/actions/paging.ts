/**
 * ECS's two ways to page a Describe call. MaxResults/NextToken (the current one) is used when
 * either is given; otherwise the deprecated PageNumber/PageSize. Items are listed newest first; a
 * NextToken remembers the last item returned, not an offset, so deletions between pages neither
 * skip nor repeat items.
 */
import { invalidParameter } from "../errors.ts";
import type { Params } from "../params.ts";

export interface MaxResultsRule {
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** DescribeDisks takes any number and clamps it; DescribeSnapshots refuses one out of range. */
  readonly clamp: boolean;
}

type PageRequest =
  | { readonly mode: "token"; readonly maxResults: number; readonly afterSeq: number | undefined }
  | { readonly mode: "page"; readonly pageNumber: number; readonly pageSize: number };

export interface PageAnswer {
  readonly TotalCount: number;
  readonly PageNumber: number;
  readonly PageSize: number;
  readonly NextToken: string;
}

/** PageSize of the deprecated paging: 1..100, default 10. */
const PAGE_SIZE = { max: 100, default: 10 };

const TOKEN_PREFIX = "zf1:";

function encodeToken(seq: number): string {
  return Buffer.from(`${TOKEN_PREFIX}${seq}`).toString("base64url");
}

function decodeToken(token: string): number {
  const text = Buffer.from(token, "base64url").toString();
  const seq = Number(text.slice(TOKEN_PREFIX.length));
  if (!text.startsWith(TOKEN_PREFIX) || !Number.isInteger(seq) || seq < 0) throw invalidParameter("NextToken");
  return seq;
}

export function readPaging(params: Params, rule: MaxResultsRule): PageRequest {
  const token = params.optional("NextToken");
  const maxResults = params.integer("MaxResults", () => invalidParameter("MaxResults"));
  if (token !== undefined || maxResults !== undefined) {
    return { mode: "token", maxResults: maxResultsOf(maxResults, rule), afterSeq: token === undefined ? undefined : decodeToken(token) };
  }
  const pageNumber = params.integer("PageNumber", () => invalidParameter("PageNumber")) ?? 1;
  const pageSize = params.integer("PageSize", () => invalidParameter("PageSize")) ?? PAGE_SIZE.default;
  if (pageNumber < 1) throw invalidParameter("PageNumber");
  if (pageSize < 1 || pageSize > PAGE_SIZE.max) throw invalidParameter("PageSize");
  return { mode: "page", pageNumber, pageSize };
}

function maxResultsOf(value: number | undefined, rule: MaxResultsRule): number {
  if (value === undefined) return rule.default;
  if (rule.clamp) return Math.min(rule.max, Math.max(rule.min, value));
  if (value < rule.min || value > rule.max) throw invalidParameter("MaxResults");
  return value;
}

/** One page of `items`, which must be sorted newest first (descending seq). */
export function pageOf<T extends { readonly seq: number }>(items: readonly T[], request: PageRequest): { readonly items: T[]; readonly answer: PageAnswer } {
  if (request.mode === "page") {
    const start = (request.pageNumber - 1) * request.pageSize;
    const slice = items.slice(start, start + request.pageSize);
    return { items: slice, answer: { TotalCount: items.length, PageNumber: request.pageNumber, PageSize: request.pageSize, NextToken: "" } };
  }
  const start = request.afterSeq === undefined ? 0 : items.findIndex((item) => item.seq < request.afterSeq!);
  const from = start === -1 ? items.length : start;
  const slice = items.slice(from, from + request.maxResults);
  const last = slice.at(-1);
  const more = from + slice.length < items.length;
  return {
    items: slice,
    answer: {
      TotalCount: items.length,
      PageNumber: Math.floor(from / request.maxResults) + 1,
      PageSize: request.maxResults,
      NextToken: more && last !== undefined ? encodeToken(last.seq) : "",
    },
  };
}
