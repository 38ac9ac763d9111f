/**
 * The docs' links hold (issue 14): every relative link in README.md and docs/**\/*.md names a file
 * or folder of this repository, a `#fragment` names a heading of the Markdown file it points to
 * (GitHub's slugs), and no link leaves the repository (a clone has nothing outside it). Links in
 * code (fenced blocks, inline code) are text, not links, and are not checked; absolute URLs
 * (https:, mailto:) are not fetched.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";

const REPO = resolve(import.meta.dirname, "..", "..");

/** README.md and every Markdown file under docs/, repository-relative, in a stable order. */
function documents(): string[] {
  const found: string[] = ["README.md"];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(REPO, folder), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) found.push(path);
    }
  };
  walk("docs");
  return found;
}

/** For each line, whether it belongs to a fenced code block (its fences included). */
function fencedLines(lines: readonly string[]): boolean[] {
  let fence: string | undefined;
  return lines.map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence === undefined) {
      if (marker !== null) fence = marker[1]!;
      return marker !== null;
    }
    if (marker !== null && marker[1]![0] === fence[0] && marker[1]!.length >= fence.length && marker[2]!.trim() === "") fence = undefined;
    return true;
  });
}

/** The text with fenced code blocks and inline code blanked (lines kept, so line numbers still hold). */
export function withoutCode(markdown: string): string {
  const lines = markdown.split("\n");
  const fenced = fencedLines(lines);
  return lines.map((line, index) => (fenced[index] === true ? "" : line.replace(/(`+)[\s\S]*?\1/g, (code) => " ".repeat(code.length)))).join("\n");
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

/** Inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  withoutCode(markdown).split("\n").forEach((text, index) => {
    for (const match of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
      links.push({ target: match[1]!, line: index + 1 });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(text);
    if (definition !== null) links.push({ target: definition[1]!, line: index + 1 });
  });
  return links;
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces made dashes. */
export function slug(heading: string): string {
  // Code spans keep their text as written (`<statefulset>` included); elsewhere a link or image
  // keeps its text and inline HTML goes.
  const text = heading
    .split(/(`+[^`]*`+)/)
    .map((part) => (part.startsWith("`") ? part.replace(/`/g, "") : part.replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "")))
    .join("")
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor a Markdown file has: its headings' slugs (repeats numbered as GitHub does) and HTML ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const lines = markdown.split("\n");
  const fenced = fencedLines(lines);
  for (const line of lines.filter((_, index) => fenced[index] !== true)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const match of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** What is wrong with `link` of the document `from` (repository-relative), or undefined when it holds. */
export function linkProblem(from: string, link: string, repo: string = REPO): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link)) return undefined; // https:, mailto:: not ours to check
  if (link.startsWith("//")) return undefined; // protocol-relative URL
  const hash = link.indexOf("#");
  const pathPart = hash === -1 ? link : link.slice(0, hash);
  const fragment = hash === -1 ? undefined : decodeURIComponent(link.slice(hash + 1));
  if (pathPart.startsWith("/")) return `${link} is absolute; write it relative to ${from}`;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    return `${link} is not a valid URL path`;
  }
  const target = decoded === "" ? join(repo, from) : resolve(repo, dirname(from), decoded);
  const inside = relative(repo, target);
  if (inside === ".." || inside.startsWith(`..${sep}`)) return `${link} points outside the repository (to ${target}); a clone has nothing there`;
  if (!existsSync(target)) return `${link}: ${inside} does not exist`;
  if (fragment === undefined || fragment === "") return undefined;
  if (!statSync(target).isFile() || !target.endsWith(".md")) {
    return /^L\d+(-L\d+)?$/.test(fragment) ? undefined : `${link}: #${fragment} can only name a line (#L12) of ${inside}`;
  }
  const anchors = anchorsOf(readFileSync(target, "utf8"));
  return anchors.has(fragment) ? undefined : `${link}: ${inside} has no heading #${fragment}`;
}

describe("links in the docs", () => {
  it("finds links but not code, and makes GitHub's slugs", () => {
    const text = "See [a](docs/a.md#x) and `[b](nowhere.md)`.\n```\n[c](nowhere.md)\n```\n![i](img.png \"t\")\n[ref]: ../out.md";
    assert.deepEqual(linksOf(text).map((link) => link.target), ["docs/a.md#x", "img.png", "../out.md"]);
    assert.equal(slug("How long a migration waits"), "how-long-a-migration-waits");
    assert.equal(slug("Strategy Rolling: one replica at a time"), "strategy-rolling-one-replica-at-a-time");
    assert.equal(slug("`RUNNER_JOURNAL_KEY_FILE` (required)"), "runner_journal_key_file-required");
    assert.equal(slug("1. Permissions in ECS (RAM): one identity per component"), "1-permissions-in-ecs-ram-one-identity-per-component");
    assert.equal(slug("What [the webhook](x.md) decides"), "what-the-webhook-decides");
    assert.equal(slug("`plan <statefulset> --target-zones a,b`"), "plan-statefulset---target-zones-ab");
    assert.equal(slug("A <em>b</em> c"), "a-b-c");
    assert.deepEqual([...anchorsOf("# A\n## A\n```\n# not a heading\n```\n<a id=\"z\"></a>")], ["a", "a-1", "z"]);
  });

  it("refuses a link outside the repository, a missing file and a missing heading", () => {
    assert.match(linkProblem("README.md", "../shared/spec/contract.md") ?? "", /outside the repository/);
    assert.match(linkProblem("docs/reference/x.md", "../../../x.md") ?? "", /outside the repository/);
    assert.match(linkProblem("README.md", "docs/no-such-page.md") ?? "", /does not exist/);
    assert.match(linkProblem("README.md", "README.md#no-such-heading") ?? "", /has no heading/);
    assert.match(linkProblem("README.md", "/docs") ?? "", /absolute/);
    assert.equal(linkProblem("README.md", "https://example.com/x"), undefined);
    assert.equal(linkProblem("README.md", "docs"), undefined);
  });

  for (const document of documents()) {
    it(`${document}: every relative link names a file of the repository, and its heading`, () => {
      const problems = linksOf(readFileSync(join(REPO, document), "utf8"))
        .map((link) => ({ link, problem: linkProblem(document, link.target) }))
        .filter((found) => found.problem !== undefined)
        .map(({ link, problem }) => `${document}:${link.line}: ${problem!}`);
      assert.deepEqual(problems, []);
    });
  }
});
