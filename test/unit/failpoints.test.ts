/**
 * The sandbox's failpoints (sandbox/failpoints.ts): what the crash matrix relies on, that a
 * failpoint strikes at exactly the write it names and at no other, and that every write is logged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RefusedByFailpoint, failpointSeam, parseFailpoints, type SeenWrite } from "../../sandbox/failpoints.ts";
import type { WriteAt } from "../../runner/write-seam.ts";

const at = (step: string, phase: "forward" | "compensating", part: "report" | "work" | "wait" | "checkpoint", call: string): WriteAt => ({ migrationId: "m1", namespace: "shop", statefulSet: "db", step: { step, phase, part, memo: new Map() }, call });

describe("failpoints for the crash matrix", () => {
  it("reads a list of failpoints and names the one it cannot read", () => {
    assert.deepEqual(parseFailpoints("rebind/forward#3=kill, protect/compensating#1=pause:2500, scale-to-zero/forward#w1=flush"), [
      { step: "rebind", phase: "forward", nth: 3, wait: false, action: { kind: "kill" } },
      { step: "protect", phase: "compensating", nth: 1, wait: false, action: { kind: "pause", ms: 2500 } },
      { step: "scale-to-zero", phase: "forward", nth: 1, wait: true, action: { kind: "flush" } },
    ]);
    assert.deepEqual(parseFailpoints(""), []);
    assert.throws(() => parseFailpoints("rebind/backward#1=kill"), /"rebind\/backward#1=kill" is not <step>\/<forward\|compensating>#<n\|w<n>>=/);
  });

  it("reads a failpoint in one replica's step of strategy Rolling", () => {
    assert.deepEqual(parseFailpoints("replica-12/take-down/forward#2=kill"), [{ step: "replica-12/take-down", phase: "forward", nth: 2, wait: false, action: { kind: "kill" } }]);
  });

  it("numbers a wait's record apart, so a run that did not wait strikes the same write as one that did", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "zf-failpoints-")), "writes.jsonl");
    const seam = failpointSeam({ ZF_FAILPOINTS: "scale-to-zero/forward#3=pause:1,scale-to-zero/forward#w1=pause:1", ZF_FAILPOINT_LOG: log });
    await seam(at("scale-to-zero", "forward", "report", "recordEvent"));
    await seam(at("scale-to-zero", "forward", "work", "patchNamespacedStatefulSet"));
    await seam(at("scale-to-zero", "forward", "wait", "updateStatus"));
    await seam(at("scale-to-zero", "forward", "checkpoint", "updateStatus"));
    const lines = readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as SeenWrite);
    assert.deepEqual(lines.map((line) => [line.part, line.nth, line.fired]), [
      ["report", 1, undefined],
      ["work", 2, undefined],
      ["wait", 1, "scale-to-zero/forward#w1=pause:1"],
      ["checkpoint", 3, "scale-to-zero/forward#3=pause:1"],
    ]);
  });

  it("refuses exactly the nth write of the step's own work, once, and lets every other write through", async () => {
    const seam = failpointSeam({ ZF_FAILPOINTS: "rebind/forward#2=refuse" });
    await seam(at("rebind", "forward", "report", "writeStatefulSetStatus"));
    await seam(at("rebind", "forward", "work", "createPersistentVolume"));
    await seam(at("rebind", "compensating", "work", "patchPersistentVolume"));
    await assert.rejects(seam(at("rebind", "forward", "work", "deleteNamespacedPersistentVolumeClaim")), (error: unknown) => error instanceof RefusedByFailpoint && (error as { code: number }).code === 403 && /deleteNamespacedPersistentVolumeClaim/.test(error.message));
    await seam(at("rebind", "forward", "work", "deleteNamespacedPersistentVolumeClaim"));
  });

  it("logs every write with its number in its step, and marks the one a failpoint struck", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "zf-failpoints-")), "writes.jsonl");
    const seam = failpointSeam({ ZF_FAILPOINTS: "snapshot/forward#2=pause:1", ZF_FAILPOINT_LOG: log });
    await seam(at("snapshot", "forward", "report", "recordEvent"));
    await seam(at("snapshot", "forward", "work", "createSnapshot"));
    await seam({ migrationId: "m1", namespace: "shop", statefulSet: "db", step: undefined, call: "recordEvent" });
    const lines = readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as SeenWrite);
    assert.deepEqual(lines.map((line) => [line.step, line.call, line.nth, line.fired]), [
      ["snapshot", "recordEvent", 1, undefined],
      ["snapshot", "createSnapshot", 2, "snapshot/forward#2=pause:1"],
      [undefined, "recordEvent", 1, undefined],
    ]);
  });
});
