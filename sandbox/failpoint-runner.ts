/**
 * The runner that ships, started with the failpoints of ZF_FAILPOINTS (sandbox/failpoints.ts):
 * what the crash tests kill, pause and refuse is the production worker, saga and steps.
 */
import { startRunner } from "../runner/start-runner.ts";
import { failpointSeam } from "./failpoints.ts";

const runner = startRunner(process.env, { seam: failpointSeam(process.env) });
const shutdown = (): void => { void runner.stop().then(() => process.exit(0)); };
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
