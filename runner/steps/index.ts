/** The steps of a Recreate migration (contract §5), in order. */
import type { MigrationContext } from "../context.ts";
import type { Step } from "../saga/step.ts";
import { stopWhenStatefulSetGone } from "../statefulset-gone.ts";
import { precheck } from "./01-precheck.ts";
import { protect } from "./02-protect.ts";
import { scaleToZero } from "./03-scale-to-zero.ts";
import { snapshot } from "./04-snapshot.ts";
import { createDisks } from "./05-create-disks.ts";
import { rebind } from "./06-rebind.ts";
import { restoreReplicas } from "./07-restore-replicas.ts";
import { finish } from "./08-finish.ts";

/** Each stops the run first if its StatefulSet was deleted meanwhile (runner/statefulset-gone.ts). */
export const RECREATE_STEPS: readonly Step<MigrationContext>[] = [precheck, protect, scaleToZero, snapshot, createDisks, rebind, restoreReplicas, finish].map(stopWhenStatefulSetGone);
