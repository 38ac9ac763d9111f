/**
 * The steps of an export (docs/cross-account.md): the app is down only while its snapshots are
 * taken (consistency Stopped, as a move's), then runs again while they are shared and published.
 * Nothing of the source is deleted or changed for good: a rollback scales the app back and stops
 * the sharing, and keeps the snapshots (the user's backup, with the retention asked).
 */
import type { MigrationContext } from "../../context.ts";
import type { Step } from "../../saga/step.ts";
import { scaleToZero } from "../03-scale-to-zero.ts";
import { snapshot } from "../04-snapshot.ts";
import { exportPrecheck } from "./01-export-precheck.ts";
import { resumeApp } from "./04-resume-app.ts";
import { share } from "./05-share.ts";
import { publish } from "./06-publish.ts";

export const EXPORT_STEPS: readonly Step<MigrationContext>[] = [exportPrecheck, scaleToZero, snapshot, resumeApp, share, publish];
