/**
 * The container image, checked without a Docker engine: the Dockerfile runs only the project's
 * own commands, the entrypoints it and the chart name exist in the build output, production
 * dependencies cover every import the entrypoints make at run time, and the image runs as 65532.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { REPO, installValues, render } from "../support/helm.ts";
import type { V1Deployment } from "@kubernetes/client-node";

interface Stage {
  readonly from: string;
  readonly instructions: { readonly keyword: string; readonly args: string }[];
}

function stages(): Stage[] {
  const lines = readFileSync(join(REPO, "Dockerfile"), "utf8").split("\n").filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  const parsed: { from: string; instructions: { keyword: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.trim().split(/\s+/);
    if (keyword.toUpperCase() === "FROM") parsed.push({ from: rest.join(" "), instructions: [] });
    else parsed.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" ") });
  }
  return parsed;
}

const packageJson = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string> };

describe("the container image", () => {
  const out = mkdtempSync(join(tmpdir(), "zf-image-"));
  after(() => { rmSync(out, { recursive: true, force: true }); });

  it("runs only the project's own commands: npm ci from the lock file and the package's build script", () => {
    const runs = stages().flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === "RUN").map((instruction) => instruction.args));
    assert.ok(runs.length > 0);
    for (const command of runs) {
      const script = /^npm run ([a-z:-]+)$/.exec(command)?.[1];
      assert.ok(/^npm ci( --[a-z-]+(=[a-z]+)?)*$/.test(command) || (script !== undefined && script in packageJson.scripts), `RUN ${command} is not the project's own`);
    }
  });

  it("is Node 24 in every stage and runs as user 65532", () => {
    const all = stages();
    assert.ok(all.every((stage) => /node(js)?:?24|nodejs24/.test(stage.from)), all.map((stage) => stage.from).join(", "));
    assert.deepEqual(all.at(-1)!.instructions.filter((instruction) => instruction.keyword === "USER").map((instruction) => instruction.args), ["65532:65532"]);
  });

  it("builds the entrypoints the Dockerfile and the chart name, and nothing from tests, the sandbox or the emulator", () => {
    execFileSync(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", join(REPO, "tsconfig.build.json"), "--outDir", out], { stdio: "inherit" });
    const final = stages().at(-1)!;
    const cmd = JSON.parse(final.instructions.find((instruction) => instruction.keyword === "CMD")!.args) as string[];
    const chart = render(installValues({ certs: "certManager", redis: "external", credentials: "rrsa" })).filter((object) => object.kind === "Deployment") as V1Deployment[];
    const entrypoints = [...cmd, ...chart.flatMap((deployment) => deployment.spec!.template.spec!.containers[0]!.args ?? [])];
    assert.deepEqual([...new Set(entrypoints)].sort(), ["runner/main.js", "webhook/main.js"]);
    for (const entrypoint of entrypoints) assert.ok(existsSync(join(out, entrypoint)), `${entrypoint} is in the build output`);
    assert.deepEqual(readdirSync(out).sort(), ["core", "runner", "webhook"]);
  });

  it("has every package the entrypoints import at run time among the production dependencies", () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+"([^"]+)"/gms)) {
        if (spec!.startsWith(".")) visit(resolve(dirname(file), spec!));
        else if (!spec!.startsWith("node:")) packages.add(spec!.startsWith("@") ? spec!.split("/").slice(0, 2).join("/") : spec!.split("/")[0]!);
      }
    };
    visit(join(out, "webhook/main.js"));
    visit(join(out, "runner/main.js"));
    const missing = [...packages].filter((name) => !(name in packageJson.dependencies));
    assert.deepEqual(missing, [], "imported at run time but not a production dependency");
    assert.ok(packages.has("bullmq") && packages.has("express"));
  });

  it("sends only the sources the build needs to the builder", () => {
    const ignore = readFileSync(join(REPO, ".dockerignore"), "utf8");
    assert.match(ignore, /^\*$/m, "everything is left out unless listed");
    for (const kept of ["package.json", "package-lock.json", "core/", "webhook/", "runner/"]) assert.match(ignore, new RegExp(`^!${kept.replace(".", "\\.")}$`, "m"));
    for (const copied of stages().flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === "COPY" && !instruction.args.startsWith("--from")))) {
      for (const source of copied.args.split(/\s+/).slice(0, -1)) assert.ok(existsSync(join(REPO, source)), `COPY ${source} exists`);
    }
  });
});
