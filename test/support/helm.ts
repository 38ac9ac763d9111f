/**
 * The chart as the tests see it: `helm template` with a set of values, parsed into objects. helm is
 * the one scripts/test.sh built from its Go module (ZONEFERRY_HELM), or is built here.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { loadAllYaml, type KubernetesObject } from "@kubernetes/client-node";
import { CHART, helmBinary, helmTemplate, setArgs, type HelmValues } from "../../sandbox/helm.ts";

export const REPO = join(import.meta.dirname, "../..");
export { CHART, helmBinary };

export type Values = HelmValues;

/** The values every install needs, for the given modes. */
export function installValues(modes: { certs: "certManager" | "secret"; redis: "external" | "bundled"; credentials: "rrsa" | "secret" }): Values {
  return {
    "ecs.regionId": "cn-shanghai",
    "webhook.certificates.mode": modes.certs,
    "redis.mode": modes.redis,
    "ecs.credentials.mode": modes.credentials,
    ...(modes.certs === "secret" ? { "webhook.certificates.secret.name": "zoneferry-webhook-tls", "webhook.certificates.secret.caBundle": Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") } : {}),
    ...(modes.redis === "external" ? { "redis.url": "redis://redis.infra:6379/0" } : {}),
    // One cloud identity per component: the runner's creates and deletes, the webhook's describes.
    ...(modes.credentials === "rrsa"
      ? {
          "ecs.credentials.runner.rrsa.roleArn": "acs:ram::1234567890:role/zoneferry-runner",
          "ecs.credentials.webhook.rrsa.roleArn": "acs:ram::1234567890:role/zoneferry-webhook",
          "ecs.credentials.rrsa.oidcProviderArn": "acs:ram::1234567890:oidc-provider/ack-rrsa-c1",
        }
      : { "ecs.credentials.runner.secret.name": "zoneferry-ecs-runner", "ecs.credentials.webhook.secret.name": "zoneferry-ecs-webhook" }),
  };
}

/** `helm template` output; throws with helm's message on a render or schema error. */
export function renderText(values: Values, namespace = "zoneferry"): string {
  return helmTemplate(values, { namespace });
}

export function render(values: Values, namespace = "zoneferry"): KubernetesObject[] {
  return (loadAllYaml(renderText(values, namespace)) as (KubernetesObject | null)[]).filter((object): object is KubernetesObject => object !== null);
}

/** helm's error output for values it refuses. */
export function renderError(values: Values): string {
  try {
    renderText(values);
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
  throw new Error("helm rendered values it should have refused");
}

export function lint(values: Values): string {
  return execFileSync(helmBinary(), ["lint", CHART, "--strict", ...setArgs(values)], { encoding: "utf8" });
}
