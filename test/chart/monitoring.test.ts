/**
 * The chart's monitoring (docs/operations.md): the PrometheusRule and the Grafana dashboard,
 * rendered by a real helm. Every metric an alert or a panel names must be one the code exports:
 * the names are read from runner/metrics.ts and webhook/metrics.ts, not copied here, so a metric
 * renamed in the code fails this test until the rule and the dashboard follow. Every metric and
 * every alert is documented in docs/operations.md.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubernetesObject, V1ConfigMap, V1ObjectMeta } from "@kubernetes/client-node";
import { REPO, installValues, render, renderError, type Values } from "../support/helm.ts";

const BASE = installValues({ certs: "certManager", redis: "external", credentials: "rrsa" });

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}
interface PrometheusRule extends KubernetesObject {
  spec: { groups: { name: string; rules: Rule[] }[] };
}
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: { expr: string }[];
}

/** Every metric name the code registers with prom-client (`name: "zoneferry_…"`). */
function exportedMetrics(): Map<string, "histogram" | "other"> {
  const names = new Map<string, "histogram" | "other">();
  for (const file of ["runner/metrics.ts", "webhook/metrics.ts"]) {
    const source = readFileSync(join(REPO, file), "utf8");
    for (const match of source.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name: "(zoneferry_[a-z_]+)"/g)) {
      names.set(match[2]!, match[1] === "Histogram" ? "histogram" : "other");
    }
  }
  return names;
}

/** The metric names an expression reads; a histogram's series (_bucket, _sum, _count) name the histogram. */
function metricsIn(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\bzoneferry_[a-z_]+/g)].map((match) => match[0]))];
}

/** Brackets that close in order, and quotes that close: what a template slip (a lost `}`) breaks first. */
function assertBalanced(expr: string, where: string): void {
  const open: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "}": "{", "]": "[" };
  let quoted = false;
  for (const char of expr) {
    if (char === '"') quoted = !quoted;
    else if (quoted) continue;
    else if ("({[".includes(char)) open.push(char);
    else if (char in pairs) assert.equal(open.pop(), pairs[char], `${where}: ${char} closes nothing in ${expr}`);
  }
  assert.ok(!quoted && open.length === 0, `${where}: unclosed ${open.join("")} in ${expr}`);
}

function assertExported(expr: string, where: string): void {
  assertBalanced(expr, where);
  const exported = exportedMetrics();
  const named = metricsIn(expr);
  for (const name of named) {
    const histogram = /_(bucket|sum|count)$/.exec(name);
    const base = histogram === null ? name : name.slice(0, histogram.index);
    const kind = exported.get(base) ?? exported.get(name);
    assert.ok(kind !== undefined, `${where} names ${name}, which neither runner/metrics.ts nor webhook/metrics.ts exports`);
    if (histogram !== null && exported.has(base)) assert.equal(kind, "histogram", `${where}: ${name} is a series of ${base}, which is not a histogram`);
    if (kind === "histogram") assert.ok(histogram !== null, `${where} reads the histogram ${name} without _bucket/_sum/_count`);
  }
}

const ruleOf = (values: Values): PrometheusRule => {
  const found = render(values).filter((object) => object.kind === "PrometheusRule");
  assert.equal(found.length, 1);
  return found[0] as PrometheusRule;
};
const rulesOf = (values: Values): Rule[] => ruleOf(values).spec.groups.flatMap((group) => group.rules);
type Dashboard = V1ConfigMap & { metadata: V1ObjectMeta };
const dashboardOf = (values: Values): Dashboard => {
  const found = render(values).filter((object) => object.kind === "ConfigMap" && object.metadata?.name === "zf-zoneferry-dashboard");
  assert.equal(found.length, 1);
  return found[0] as Dashboard;
};
const panelsOf = (configMap: V1ConfigMap): Panel[] => (JSON.parse(configMap.data!["zoneferry.json"]!) as { panels: Panel[] }).panels;

describe("the chart's monitoring", () => {
  it("renders neither the rule nor the dashboard unless asked", () => {
    const kinds = render(BASE).map((object) => `${object.kind ?? ""}/${object.metadata?.name ?? ""}`);
    assert.ok(!kinds.some((kind) => kind.startsWith("PrometheusRule/")));
    assert.ok(!kinds.includes("ConfigMap/zf-zoneferry-dashboard"));
  });

  it("names in its alerts only metrics the code exports, read from this release's targets", () => {
    const rules = rulesOf({ ...BASE, "prometheusRule.enabled": true });
    assert.ok(rules.length >= 10);
    for (const rule of rules) {
      assertExported(rule.expr, `alert ${rule.alert}`);
      assert.match(rule.expr, /namespace="zoneferry"/, `${rule.alert} reads this release's targets only`);
      assert.ok(["critical", "warning", "info"].includes(rule.labels["severity"] ?? ""), `${rule.alert} has a severity`);
      assert.ok((rule.annotations["summary"] ?? "") !== "", `${rule.alert} has a summary`);
    }
    const alerts = rules.map((rule) => rule.alert);
    for (const wanted of ["ZoneferryRollbackFailed", "ZoneferryAdmissionErrored", "ZoneferryMigrationStuck", "ZoneferryWebhookDown", "ZoneferryRunnerDown", "ZoneferryEcsErrors"]) {
      assert.ok(alerts.includes(wanted), wanted);
    }
  });

  it("alerts RollbackFailed as a state that lasts until a person clears it, never an increase() that clears itself", () => {
    const rule = rulesOf({ ...BASE, "prometheusRule.enabled": true }).find((candidate) => candidate.alert === "ZoneferryRollbackFailed")!;
    assert.doesNotMatch(rule.expr, /increase|rate\(/);
    assert.match(rule.expr, /zoneferry_statefulsets\{status="RollbackFailed"/);
    assert.equal(exportedMetrics().get("zoneferry_statefulsets"), "other", "a gauge");
    assert.equal(rule.labels["severity"], "critical");
  });

  it("alerts admissions the webhook could not judge, by the decision label the webhook counts them under", () => {
    const rule = rulesOf({ ...BASE, "prometheusRule.enabled": true }).find((candidate) => candidate.alert === "ZoneferryAdmissionErrored")!;
    assert.match(rule.expr, /zoneferry_webhook_admissions_total\{decision="errored"/);
    assert.match(readFileSync(join(REPO, "webhook/admission/transport.ts"), "utf8"), /"errored"/, "the webhook counts a decision errored");
  });

  it("bounds a migration in flight by prometheusRule.stuckAfter, in seconds, and refuses a bound that is not a duration", () => {
    const stuck = (values: Values): Rule => rulesOf({ ...BASE, "prometheusRule.enabled": true, ...values }).find((candidate) => candidate.alert === "ZoneferryMigrationStuck")!;
    assert.match(stuck({}).expr, /^time\(\) - max by \(statefulset, migration_id\) \(zoneferry_migration_started_timestamp_seconds\{namespace="zoneferry"\}\) > 21600$/);
    assert.match(stuck({ "prometheusRule.stuckAfter": "90m" }).expr, /> 5400$/);
    assert.match(renderError({ ...BASE, "prometheusRule.enabled": true, "prometheusRule.stuckAfter": "six hours" }), /stuckAfter/);
  });

  it("names the runner's and the webhook's scrape jobs as the ServiceMonitor makes them (the Services' names)", () => {
    const objects = render({ ...BASE, "prometheusRule.enabled": true, "serviceMonitor.enabled": true });
    const services = new Set(objects.filter((object) => object.kind === "Service").map((object) => object.metadata?.name));
    const rules = (objects.find((object) => object.kind === "PrometheusRule") as PrometheusRule).spec.groups.flatMap((group) => group.rules);
    for (const rule of rules.filter((candidate) => candidate.expr.includes("up{"))) {
      const job = /job="([^"]+)"/.exec(rule.expr)?.[1];
      assert.ok(job !== undefined && services.has(job), `${rule.alert}: job ${job ?? "?"} is a Service the ServiceMonitor scrapes`);
    }
  });

  it("takes the rule's labels and every alert's extra labels from values", () => {
    const rule = ruleOf({ ...BASE, "prometheusRule.enabled": true, "prometheusRule.labels.release": "kube-prometheus-stack", "prometheusRule.additionalAlertLabels.team": "platform" });
    assert.equal(rule.metadata?.labels?.["release"], "kube-prometheus-stack");
    assert.ok(rule.spec.groups.flatMap((group) => group.rules).every((candidate) => candidate.labels["team"] === "platform"));
  });

  it("ships the dashboard in a ConfigMap for Grafana's sidecar, every panel on metrics the code exports", () => {
    const configMap = dashboardOf({ ...BASE, "grafanaDashboard.enabled": true, "grafanaDashboard.annotations.grafana_folder": "Platform" });
    assert.equal(configMap.metadata.labels?.["grafana_dashboard"], "1");
    assert.equal(configMap.metadata.namespace, "zoneferry");
    assert.equal(configMap.metadata.annotations?.["grafana_folder"], "Platform");
    const panels = panelsOf(configMap).filter((panel) => panel.type !== "row");
    assert.ok(panels.length >= 10);
    const shown = new Set<string>();
    for (const panel of panels) {
      assert.ok((panel.targets ?? []).length > 0, `panel ${panel.title} has a query`);
      for (const target of panel.targets ?? []) {
        assertExported(target.expr, `panel ${panel.title}`);
        assert.match(target.expr, /namespace="\$namespace"/, `panel ${panel.title} reads the chosen release's targets`);
        for (const name of metricsIn(target.expr)) shown.add(name.replace(/_(bucket|sum|count)$/, ""));
      }
    }
    for (const wanted of ["zoneferry_statefulsets", "zoneferry_ecs_errors_total", "zoneferry_queue_jobs", "zoneferry_application_downtime_seconds", "zoneferry_migration_started_timestamp_seconds"]) {
      assert.ok(shown.has(wanted), `the dashboard shows ${wanted}`);
    }
  });

  it("puts the dashboard where the sidecar looks, with its labels, when told", () => {
    const configMap = dashboardOf({ ...BASE, "grafanaDashboard.enabled": true, "grafanaDashboard.namespace": "monitoring", "grafanaDashboard.labels.grafana_dashboard": "zoneferry" });
    assert.equal(configMap.metadata.namespace, "monitoring");
    assert.equal(configMap.metadata.labels?.["grafana_dashboard"], "zoneferry");
  });

  it("documents every metric the code exports and every alert the rule has in docs/operations.md", () => {
    const operations = readFileSync(join(REPO, "docs/operations.md"), "utf8");
    for (const name of exportedMetrics().keys()) assert.ok(operations.includes(`\`${name}`), `docs/operations.md documents ${name}`);
    for (const rule of rulesOf({ ...BASE, "prometheusRule.enabled": true })) assert.ok(operations.includes(rule.alert), `docs/operations.md documents ${rule.alert}`);
  });
});
