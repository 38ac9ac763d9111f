import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMigrationRequest, unavailableStrategy, type AnnotationProblem } from "../../core/migration-request.ts";

const ZONES = "zoneferry.io/target-zones";

function problemsOf(annotations: Record<string, string>): readonly AnnotationProblem[] {
  const parsed = parseMigrationRequest({ [ZONES]: "cn-shanghai-b", ...annotations });
  if (parsed.ok) assert.fail("expected the annotations to be rejected");
  return parsed.problems;
}

function onlyProblem(annotations: Record<string, string>): AnnotationProblem {
  const problems = problemsOf(annotations);
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
  return problems[0]!;
}

describe("reading the zoneferry annotations", () => {
  it("applies every default of the contract when only target-zones is set", () => {
    const parsed = parseMigrationRequest({ [ZONES]: "cn-shanghai-b,cn-shanghai-g" });
    assert.deepEqual(parsed, {
      ok: true,
      request: {
        targetZones: ["cn-shanghai-b", "cn-shanghai-g"],
        checkIntervalMs: 60_000,
        readyTimeoutMs: 900_000,
        healthDurationMs: 0,
        snapshotRetentionDays: 1,
        retainSource: false,
        strategy: "Recreate",
        retry: "",
      },
    });
  });

  it("tolerates whitespace around zones and keeps the user's order", () => {
    const parsed = parseMigrationRequest({ [ZONES]: "  cn-shanghai-g , cn-shanghai-b " });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.request.targetZones, ["cn-shanghai-g", "cn-shanghai-b"]);
  });

  it("reads plain numbers as minutes and Go-style durations", () => {
    const parsed = parseMigrationRequest({
      [ZONES]: "cn-shanghai-b",
      "zoneferry.io/check-interval": "0.5",
      "zoneferry.io/ready-timeout": "1h30m",
      "zoneferry.io/health-duration": "45s",
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.request.checkIntervalMs, 30_000);
    assert.equal(parsed.request.readyTimeoutMs, 5_400_000);
    assert.equal(parsed.request.healthDurationMs, 45_000);
  });

  it("accepts retain-source and strategy in any letter case and normalizes them", () => {
    const parsed = parseMigrationRequest({ [ZONES]: "cn-shanghai-b", "zoneferry.io/retain-source": "TRUE", "zoneferry.io/strategy": "rolling" });
    assert.ok(parsed.ok);
    assert.equal(parsed.request.retainSource, true);
    assert.equal(parsed.request.strategy, "Rolling");
  });

  it("accepts -1 as snapshot retention (keep until deleted by hand)", () => {
    const parsed = parseMigrationRequest({ [ZONES]: "cn-shanghai-b", "zoneferry.io/snapshot-retention-days": "-1" });
    assert.ok(parsed.ok);
    assert.equal(parsed.request.snapshotRetentionDays, -1);
  });

  it("keeps the retry value, trimmed", () => {
    const parsed = parseMigrationRequest({ [ZONES]: "cn-shanghai-b", "zoneferry.io/retry": " second try " });
    assert.ok(parsed.ok);
    assert.equal(parsed.request.retry, "second try");
  });
});

describe("denying a malformed target-zones annotation", () => {
  it("names an empty value as an empty item", () => {
    const problem = onlyProblem({ [ZONES]: "" });
    assert.equal(problem.annotation, ZONES);
    assert.match(problem.message, /annotation zoneferry\.io\/target-zones: "" has an empty item; expected comma-separated zone IDs/);
  });

  it("names an empty item between commas", () => {
    assert.match(onlyProblem({ [ZONES]: "cn-shanghai-b,,cn-shanghai-g" }).message, /"cn-shanghai-b,,cn-shanghai-g" has an empty item/);
  });

  it("names each zone ID that is not lower-case dash-separated", () => {
    const problem = onlyProblem({ [ZONES]: "cn-shanghai-b,CN-Shanghai-G,shanghai" });
    assert.match(problem.message, /has invalid zone IDs "CN-Shanghai-G", "shanghai"; a zone ID is lower-case letters and digits in dash-separated parts/);
  });

  it("refuses a zone ID longer than 63 characters", () => {
    const long = `cn-${"a".repeat(61)}`;
    assert.match(onlyProblem({ [ZONES]: long }).message, /invalid zone IDs .*at most 63 characters/);
  });

  it("names a zone listed twice", () => {
    assert.match(onlyProblem({ [ZONES]: "cn-shanghai-b, cn-shanghai-b" }).message, /lists cn-shanghai-b more than once; list each target zone once/);
  });

  it("refuses more than 16 zones", () => {
    const zones = Array.from({ length: 17 }, (_, index) => `cn-zone-${index}`).join(",");
    assert.match(onlyProblem({ [ZONES]: zones }).message, /lists 17 zones; at most 16 are allowed/);
  });
});

describe("denying malformed option annotations", () => {
  it("explains what a duration looks like when check-interval is not one", () => {
    const problem = onlyProblem({ "zoneferry.io/check-interval": "every minute" });
    assert.equal(problem.annotation, "zoneferry.io/check-interval");
    assert.equal(problem.value, "every minute");
    assert.match(problem.message, /"every minute" is not a duration; use minutes \("1", "0.5"\) or a duration \("30s", "2m", "1h30m"\) between 1s and 1h/);
  });

  it("refuses a check-interval of zero, which would poll without pause", () => {
    assert.match(onlyProblem({ "zoneferry.io/check-interval": "0" }).message, /check-interval: "0" is out of range; use a duration between 1s and 1h/);
  });

  it("refuses a ready-timeout beyond a day, catching 15h written for 15m", () => {
    assert.match(onlyProblem({ "zoneferry.io/ready-timeout": "25h" }).message, /ready-timeout: "25h" is out of range; use a duration between 30s and 24h/);
  });

  it("refuses a ready-timeout shorter than the check interval", () => {
    const problem = onlyProblem({ "zoneferry.io/check-interval": "10m", "zoneferry.io/ready-timeout": "5m" });
    assert.match(problem.message, /ready-timeout: "5m" is shorter than zoneferry\.io\/check-interval \(10m\)/);
  });

  it("refuses a negative health-duration", () => {
    assert.match(onlyProblem({ "zoneferry.io/health-duration": "-5m" }).message, /health-duration: "-5m" is not a duration/);
  });

  for (const value of ["0", "65537", "1.5", "seven", "-2"]) {
    it(`refuses snapshot-retention-days "${value}" and says 1..65536 or -1`, () => {
      const problem = onlyProblem({ "zoneferry.io/snapshot-retention-days": value });
      assert.equal(problem.message, `annotation zoneferry.io/snapshot-retention-days: ${JSON.stringify(value)} is not allowed; use a whole number of days from 1 to 65536, or -1 to keep the snapshots until deleted by hand`);
    });
  }

  it("refuses a retain-source that is not true or false", () => {
    assert.match(onlyProblem({ "zoneferry.io/retain-source": "yes" }).message, /retain-source: "yes" is not allowed; use "true" .* or "false"/);
  });

  it("refuses an unknown strategy", () => {
    assert.equal(onlyProblem({ "zoneferry.io/strategy": "BlueGreen" }).message, 'annotation zoneferry.io/strategy: "BlueGreen" is not a strategy; use "Recreate" (every replica down for the whole move) or "Rolling" (one replica at a time)');
  });

  it("finds no strategy unavailable: Recreate, written or by default, and Rolling in any letter case", () => {
    const requests = [{ [ZONES]: "cn-shanghai-b" }, { [ZONES]: "cn-shanghai-b", "zoneferry.io/strategy": "Recreate" }, { [ZONES]: "cn-shanghai-b", "zoneferry.io/strategy": "rolling" }];
    for (const annotations of requests) {
      const parsed = parseMigrationRequest(annotations);
      assert.ok(parsed.ok);
      assert.equal(unavailableStrategy(parsed.request, annotations), undefined, JSON.stringify(annotations));
    }
  });

  it("refuses a misspelt zoneferry annotation and suggests the right one", () => {
    const problem = onlyProblem({ "zoneferry.io/retain-sources": "true" });
    assert.match(problem.message, /zoneferry\.io\/retain-sources is not a zoneferry annotation; did you mean zoneferry\.io\/retain-source\?/);
  });

  it("reports every problem at once, so one sync shows them all", () => {
    const problems = problemsOf({ [ZONES]: "B", "zoneferry.io/strategy": "x", "zoneferry.io/retain-source": "maybe" });
    assert.deepEqual(problems.map((problem) => problem.annotation).sort(), ["zoneferry.io/retain-source", "zoneferry.io/strategy", ZONES]);
  });
});

describe("bounding what the annotations may hold", () => {
  it("refuses a retry value longer than 63 characters, quoting only its start", () => {
    const problem = onlyProblem({ "zoneferry.io/retry": "r".repeat(2_900_000) });
    assert.equal(problem.annotation, "zoneferry.io/retry");
    assert.equal(problem.message, `annotation zoneferry.io/retry: "${"r".repeat(80)}"… (2900000 characters) is too long; it may have at most 63 characters`);
  });

  it("keeps a retry value of 63 characters, room for a commit id or a date", () => {
    const parsed = parseMigrationRequest({ [ZONES]: "cn-shanghai-b", "zoneferry.io/retry": "9".repeat(63) });
    assert.ok(parsed.ok);
    assert.equal(parsed.request.retry.length, 63);
  });

  it("refuses a target-zones value longer than 16 zones of 63 characters with a comma and space each", () => {
    assert.match(onlyProblem({ [ZONES]: "cn-shanghai-b,".repeat(100) }).message, /^annotation zoneferry\.io\/target-zones: ".{80}"… \(1400 characters\) is too long; it may have at most 1040 characters$/);
  });

  it("refuses an overlong option value without parsing it", () => {
    assert.match(onlyProblem({ "zoneferry.io/check-interval": `1${"0".repeat(100)}` }).message, /check-interval: .* is too long; it may have at most 63 characters/);
  });

  it("names at most 5 unknown zoneferry.io/ annotations with a suggestion and counts the rest, quickly and briefly", () => {
    const forged = Object.fromEntries(Array.from({ length: 3_447 }, (_, index) => [`zoneferry.io/retain-sources-${index}`, "true"]));
    const started = performance.now();
    const problems = problemsOf(forged);
    const elapsed = performance.now() - started;
    assert.equal(problems.length, 6);
    assert.match(problems[5]!.message, /^3442 more zoneferry\.io\/ annotations are not zoneferry annotations either; remove them$/);
    assert.ok(problems.map((problem) => problem.message).join("; ").length < 2_000);
    assert.ok(elapsed < 200, `took ${elapsed} ms`);
  });

  it("never measures an unknown key far longer than any zoneferry annotation, and quotes only its start", () => {
    const key = `zoneferry.io/${"k".repeat(1_000_000)}`;
    const started = performance.now();
    const problem = onlyProblem({ [key]: "x" });
    assert.ok(performance.now() - started < 200);
    assert.match(problem.message, /^annotation zoneferry\.io\/k{67}… and 999933 more characters is not a zoneferry annotation; the annotations you can set are/);
  });

  it("lists at most ten invalid zone IDs", () => {
    const zones = Array.from({ length: 16 }, (_, index) => `Zone${index}`).join(",");
    assert.match(onlyProblem({ [ZONES]: zones }).message, /"Zone9" … and 6 more; a zone ID is lower-case/);
  });
});
