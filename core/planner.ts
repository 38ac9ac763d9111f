/**
 * The placement planner of contract §2, a pure function: the same disks and target zones always
 * give the same plan.
 *
 * - Only disks of the Alibaba disk CSI driver are planned (the caller leaves other volumes out).
 * - An ordinal whose disks all sit in one of the target zones stays there.
 * - The other ordinals, in ordinal order, each go to the target zone that then holds the fewest
 *   of this StatefulSet's replicas, ties broken by the order of the target list.
 * - All volumes of one ordinal go to the same zone (a pod can only mount disks of its own zone).
 */

export interface PlannedVolumeInput {
  /** PVC name, e.g. `data-web-0`. */
  readonly claim: string;
  /** Zone the volume's disk is in now. */
  readonly zone: string;
}

export interface OrdinalInput {
  readonly ordinal: number;
  /** The ordinal's disk volumes; an ordinal with none is not part of the plan. */
  readonly volumes: readonly PlannedVolumeInput[];
}

export interface VolumePlacement {
  readonly claim: string;
  readonly fromZone: string;
  readonly toZone: string;
  /** False when the disk is already in `toZone`. */
  readonly move: boolean;
}

export interface OrdinalPlacement {
  readonly ordinal: number;
  readonly zone: string;
  readonly volumes: readonly VolumePlacement[];
}

export interface PlacementPlan {
  readonly ordinals: readonly OrdinalPlacement[];
  /** Volumes whose disk must be copied to another zone. */
  readonly moves: readonly VolumePlacement[];
  /** Replicas per target zone once the plan is carried out, in target-list order. */
  readonly replicasPerZone: ReadonlyMap<string, number>;
}

export function planPlacement(ordinals: readonly OrdinalInput[], targetZones: readonly string[]): PlacementPlan {
  if (targetZones.length === 0) throw new Error("planPlacement needs at least one target zone");
  const withDisks = [...ordinals].filter((o) => o.volumes.length > 0).sort((a, b) => a.ordinal - b.ordinal);
  const counts = new Map(targetZones.map((zone) => [zone, 0]));
  const zoneOf = new Map<number, string>();

  for (const ordinal of withDisks) {
    const home = stayingZone(ordinal, counts);
    if (home !== undefined) {
      zoneOf.set(ordinal.ordinal, home);
      counts.set(home, counts.get(home)! + 1);
    }
  }
  for (const ordinal of withDisks) {
    if (zoneOf.has(ordinal.ordinal)) continue;
    const zone = emptiestZone(targetZones, counts);
    zoneOf.set(ordinal.ordinal, zone);
    counts.set(zone, counts.get(zone)! + 1);
  }

  const placements = withDisks.map((ordinal) => place(ordinal, zoneOf.get(ordinal.ordinal)!));
  return {
    ordinals: placements,
    moves: placements.flatMap((placement) => placement.volumes.filter((volume) => volume.move)),
    replicasPerZone: counts,
  };
}

/** The target zone an ordinal stays in: all its disks are already there. */
function stayingZone(ordinal: OrdinalInput, targets: ReadonlyMap<string, number>): string | undefined {
  const zones = new Set(ordinal.volumes.map((volume) => volume.zone));
  const [only] = zones;
  return zones.size === 1 && only !== undefined && targets.has(only) ? only : undefined;
}

function emptiestZone(targetZones: readonly string[], counts: ReadonlyMap<string, number>): string {
  // Strict "<" keeps the earliest zone of the list on a tie.
  return targetZones.reduce((best, zone) => (counts.get(zone)! < counts.get(best)! ? zone : best));
}

function place(ordinal: OrdinalInput, zone: string): OrdinalPlacement {
  // Code-unit order, not localeCompare: the plan must not depend on the process's locale.
  const volumes = [...ordinal.volumes]
    .sort((a, b) => (a.claim < b.claim ? -1 : a.claim > b.claim ? 1 : 0))
    .map((volume) => ({ claim: volume.claim, fromZone: volume.zone, toZone: zone, move: volume.zone !== zone }));
  return { ordinal: ordinal.ordinal, zone, volumes };
}
