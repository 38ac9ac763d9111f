/** The crash matrix's second half (test/support/crash-matrix.ts): every compensation, refusals, a frozen worker. */
import { describeCrashMatrix } from "../support/crash-matrix.ts";

describeCrashMatrix("rollback");
