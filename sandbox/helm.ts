/**
 * helm for the sandbox and the tests: ZONEFERRY_HELM when set, else the one scripts/helm/build.sh
 * builds from its Go module (once, cached), as the control-plane binaries are found.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..");
export const CHART = join(REPO, "charts/zoneferry");

export function helmBinary(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = env["ZONEFERRY_HELM"];
  if (given !== undefined && given !== "") return given;
  return execFileSync("bash", [join(REPO, "scripts/helm/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").at(-1)!;
}

export type HelmValues = Readonly<Record<string, string | number | boolean>>;

/** `--set-string` for strings (a value like "true" stays a string), `--set` for the rest. */
export function setArgs(values: HelmValues): string[] {
  return Object.entries(values).flatMap(([key, value]) => [typeof value === "string" ? "--set-string" : "--set", `${key}=${String(value)}`]);
}

/** `helm template` of the chart (only the templates named, when some are); throws with helm's message. */
export function helmTemplate(values: HelmValues, options: { namespace?: string; release?: string; showOnly?: readonly string[] } = {}): string {
  const showOnly = (options.showOnly ?? []).flatMap((template) => ["--show-only", template]);
  return execFileSync(helmBinary(), ["template", options.release ?? "zf", CHART, "--namespace", options.namespace ?? "zoneferry", ...showOnly, ...setArgs(values)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}
