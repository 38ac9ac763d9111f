/** The crash matrix's first half (test/support/crash-matrix.ts): every forward step. */
import { describeCrashMatrix } from "../support/crash-matrix.ts";

describeCrashMatrix("forward");
