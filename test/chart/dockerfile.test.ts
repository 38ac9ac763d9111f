/**
 * The container image, checked without a Docker engine: the Dockerfile runs only the project's
 * own commands, pins every base image by digest, the entrypoints it and the chart name exist in the
 * build output, production dependencies cover every import the entrypoints make at run time, and
 * the image runs as 65532.
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

interface Dockerfile {
  /** ARGs before the first FROM: the only ones a FROM line may use. */
  readonly globalArgs: readonly string[];
  readonly stages: readonly Stage[];
}

function dockerfile(): Dockerfile {
  const lines = readFileSync(join(REPO, "Dockerfile"), "utf8").split("\n").filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  const globalArgs: string[] = [];
  const parsed: { from: string; instructions: { keyword: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.trim().split(/\s+/);
    if (keyword.toUpperCase() === "FROM") parsed.push({ from: rest.join(" "), instructions: [] });
    else if (parsed.length === 0 && keyword.toUpperCase() === "ARG") globalArgs.push(rest.join(" "));
    else parsed.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" ") });
  }
  return { globalArgs, stages: parsed };
}

const stages = (): readonly Stage[] => dockerfile().stages;

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

  it("pins every base image by digest: the build stages by one the Dockerfile says where it was found, the runtime by a required argument", () => {
    const { globalArgs, stages: all } = dockerfile();
    const named = new Set(all.map((stage) => /\sAS\s+(\S+)$/i.exec(stage.from)?.[1]).filter((name) => name !== undefined));
    const bases = all.map((stage) => stage.from.split(/\s+/)[0]!).filter((base) => !named.has(base));
    assert.ok(bases.length >= 2);
    for (const base of bases) {
      const pinned = /^[^\s@]+:[^\s@]+@sha256:[0-9a-f]{64}$/.test(base);
      const argument = /^[^\s@]+:[^\s@]+@\$\{([A-Z_]+)\}$/.exec(base)?.[1];
      assert.ok(pinned || argument !== undefined, `FROM ${base} is pinned by digest`);
      // An argument with a default would let a build fall back to whatever the tag points at.
      if (argument !== undefined) assert.ok(globalArgs.includes(argument), `ARG ${argument} is declared before the first FROM, without a default`);
    }
    const text = readFileSync(join(REPO, "Dockerfile"), "utf8");
    for (const digest of new Set(bases.flatMap((base) => /@(sha256:[0-9a-f]{64})$/.exec(base)?.[1] ?? []))) {
      assert.match(text, /# .*github\.com\/[\w.-]+\/[\w.-]+, Dockerfile at commit [0-9a-f]{12}/, `where ${digest} was found is said`);
    }
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
