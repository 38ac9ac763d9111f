import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { planPlacement, type OrdinalInput } from "../../core/planner.ts";

const ALL_ZONES = ["cn-shanghai-a", "cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-m", "cn-shanghai-n"];

/** A StatefulSet's disks: each ordinal has 1..3 templates, each disk in some zone. */
const statefulSetDisks = fc
  .record({
    replicas: fc.integer({ min: 0, max: 40 }),
    templates: fc.integer({ min: 1, max: 3 }),
    spread: fc.boolean(),
  })
  .chain(({ replicas, templates, spread }) =>
    fc.tuple(
      fc.array(fc.array(fc.constantFrom(...ALL_ZONES), { minLength: templates, maxLength: templates }), { minLength: replicas, maxLength: replicas }),
      fc.constant(spread),
    ),
  )
  .map(([zonesPerOrdinal, spread]): OrdinalInput[] =>
    zonesPerOrdinal.map((zones, ordinal) => ({
      ordinal,
      // Most pods have all their disks in one zone; `spread` also tries the broken case.
      volumes: zones.map((zone, template) => ({ claim: `t${template}-db-${ordinal}`, zone: spread ? zone : zones[0]! })),
    })),
  );

const targetZones = fc.uniqueArray(fc.constantFrom(...ALL_ZONES), { minLength: 1, maxLength: ALL_ZONES.length });

describe("the placement planner", () => {
  it("is deterministic: the same disks and zones always give the same plan", () => {
    fc.assert(
      fc.property(statefulSetDisks, targetZones, (ordinals, zones) => {
        const shuffled = [...ordinals].reverse();
        assert.deepEqual(planPlacement(ordinals, zones), planPlacement(shuffled, zones));
      }),
    );
  });

  it("leaves every ordinal whose disks are already in one target zone where it is", () => {
    fc.assert(
      fc.property(statefulSetDisks, targetZones, (ordinals, zones) => {
        const plan = planPlacement(ordinals, zones);
        for (const ordinal of ordinals) {
          const here = new Set(ordinal.volumes.map((volume) => volume.zone));
          const [only] = here;
          if (here.size !== 1 || !zones.includes(only!)) continue;
          const placed = plan.ordinals.find((candidate) => candidate.ordinal === ordinal.ordinal)!;
          assert.equal(placed.zone, only);
          assert.ok(placed.volumes.every((volume) => !volume.move));
        }
      }),
    );
  });

  it("balances replicas across the target zones within one when no disk starts in a target zone", () => {
    const outside = ["cn-beijing-a", "cn-beijing-c"];
    const moving = fc.array(fc.constantFrom(...outside), { maxLength: 60 }).map((zones): OrdinalInput[] =>
      zones.map((zone, ordinal) => ({ ordinal, volumes: [{ claim: `data-db-${ordinal}`, zone }] })),
    );
    fc.assert(
      fc.property(moving, targetZones, (ordinals, zones) => {
        const counts = [...planPlacement(ordinals, zones).replicasPerZone.values()];
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts.join(",")}`);
      }),
    );
  });

  it("never sends a moving ordinal to a zone that ends more than one replica above another target zone", () => {
    fc.assert(
      fc.property(statefulSetDisks, targetZones, (ordinals, zones) => {
        const plan = planPlacement(ordinals, zones);
        const staying = (ordinal: OrdinalInput): boolean => {
          const here = new Set(ordinal.volumes.map((volume) => volume.zone));
          return here.size === 1 && zones.includes([...here][0]!);
        };
        const movers = new Set(ordinals.filter((ordinal) => !staying(ordinal)).map((ordinal) => ordinal.ordinal));
        const final = plan.replicasPerZone;
        for (const placed of plan.ordinals.filter((o) => movers.has(o.ordinal))) {
          for (const other of zones) {
            assert.ok(final.get(placed.zone)! <= final.get(other)! + 1, `${placed.zone}=${final.get(placed.zone)} vs ${other}=${final.get(other)}`);
          }
        }
      }),
    );
  });

  it("keeps all volumes of an ordinal together in one target zone", () => {
    fc.assert(
      fc.property(statefulSetDisks, targetZones, (ordinals, zones) => {
        for (const placed of planPlacement(ordinals, zones).ordinals) {
          assert.ok(zones.includes(placed.zone));
          assert.ok(placed.volumes.every((volume) => volume.toZone === placed.zone));
        }
      }),
    );
  });

  it("moves exactly the volumes whose disk is not in their ordinal's zone", () => {
    fc.assert(
      fc.property(statefulSetDisks, targetZones, (ordinals, zones) => {
        const plan = planPlacement(ordinals, zones);
        const expected = plan.ordinals.flatMap((o) => o.volumes.filter((v) => v.fromZone !== o.zone).map((v) => v.claim)).sort();
        assert.deepEqual(plan.moves.map((move) => move.claim).sort(), expected);
      }),
    );
  });

  it("alternates four replicas over two zones in list order", () => {
    const ordinals = [0, 1, 2, 3].map((ordinal) => ({ ordinal, volumes: [{ claim: `data-db-${ordinal}`, zone: "cn-shanghai-m" }] }));
    const plan = planPlacement(ordinals, ["cn-shanghai-b", "cn-shanghai-g"]);
    assert.deepEqual(plan.ordinals.map((o) => o.zone), ["cn-shanghai-b", "cn-shanghai-g", "cn-shanghai-b", "cn-shanghai-g"]);
  });

  it("fills the emptier zone first when one replica already sits in a target zone", () => {
    const ordinals = [
      { ordinal: 0, volumes: [{ claim: "data-db-0", zone: "cn-shanghai-m" }] },
      { ordinal: 1, volumes: [{ claim: "data-db-1", zone: "cn-shanghai-b" }] },
      { ordinal: 2, volumes: [{ claim: "data-db-2", zone: "cn-shanghai-m" }] },
    ];
    const plan = planPlacement(ordinals, ["cn-shanghai-b", "cn-shanghai-g"]);
    assert.deepEqual(plan.ordinals.map((o) => [o.ordinal, o.zone]), [[0, "cn-shanghai-g"], [1, "cn-shanghai-b"], [2, "cn-shanghai-b"]]);
    assert.deepEqual(plan.moves.map((move) => move.claim), ["data-db-0", "data-db-2"]);
  });

  it("moves only the stray volume of an ordinal whose disks are split across zones", () => {
    const plan = planPlacement([{ ordinal: 0, volumes: [{ claim: "data-db-0", zone: "cn-shanghai-b" }, { claim: "logs-db-0", zone: "cn-shanghai-m" }] }], ["cn-shanghai-b"]);
    assert.deepEqual(plan.moves.map((move) => move.claim), ["logs-db-0"]);
  });
});
