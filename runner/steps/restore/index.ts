/**
 * The steps of a restore (docs/cross-account.md): accept the export's share, find each claim's
 * snapshot by name, make the claims from them, then release the replicas the mutating webhook held
 * at 0. Before the release, a failure deletes what the restore made, and nothing else.
 */
import type { MigrationContext } from "../../context.ts";
import type { Step } from "../../saga/step.ts";
import { restorePrecheck } from "./01-restore-precheck.ts";
import { acceptShare } from "./02-accept-share.ts";
import { findSnapshots } from "./03-find-snapshots.ts";
import { makeClaims } from "./04-make-claims.ts";
import { releaseReplicas } from "./05-release-replicas.ts";

export const RESTORE_STEPS: readonly Step<MigrationContext>[] = [restorePrecheck, acceptShare, findSnapshots, makeClaims, releaseReplicas];
