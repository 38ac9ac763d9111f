/**
 * The migration worker: a BullMQ worker on the migration queue. Each job is a saga of the Recreate
 * steps, whose progress lives in the job's data and the ZoneMigration journal; long waits are
 * delayed re-checks, so a job holds its lock only while a step runs.
 */
import { DelayedError, Worker, type Job } from "bullmq";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { DiskCloud } from "../core/disk-cloud.ts";
import type { SnapshotSharing } from "../core/snapshot-sharing.ts";
import { MIGRATION_QUEUE, type MigrationJobData } from "../core/migration-queue.ts";
import { bullConnection, redisTarget } from "../core/redis-target.ts";
import { DEFAULT_RUNNER_SETTINGS, journalNameOf, migrationContext, type MigrationContext, type RunnerSettings } from "./context.ts";
import { gateJob, tellStatefulSet, type Gate } from "./job-gate.ts";
import type { JournalSeal } from "./journal/seal.ts";
import { MigrationJournal, journalName } from "./journal/journal.ts";
import { FencedError, LeaseHeldError, MigrationLease, WORKER_IDENTITY, leaseName } from "./fence.ts";
import { journalCheckpointStore } from "./journal/checkpoint-store.ts";
import { cancelRequested } from "./cancel.ts";
import { reportResult, reportStep, type RefusedReport } from "./report.ts";
import { describeFault, faultKind } from "./faults.ts";
import { runSaga, type SagaData } from "./saga/run-saga.ts";
import type { SagaResult } from "./saga/checkpoint.ts";
import { stepsFor } from "./steps/index.ts";
import type { Step } from "./saga/step.ts";
import type { WriteSeam } from "./write-seam.ts";
import { JobTimer, createRunnerMetrics, type RunnerMetrics } from "./metrics.ts";

export interface MigrationWorkerOptions {
  readonly redisUrl: string;
  readonly kubeconfig: KubeConfig;
  readonly cloud: DiskCloud;
  /** Resource Sharing, for exports and restores across accounts; without it they fail saying so. */
  readonly sharing?: SnapshotSharing;
  readonly concurrency: number;
  readonly logger: Logger;
  readonly queueName?: string;
  readonly metrics?: RunnerMetrics;
  readonly settings?: RunnerSettings;
  /** How long a migration's Lease lasts unrenewed (RUNNER_LEASE_DURATION). @defaultValue 15000 */
  readonly leaseDurationMs?: number;
  /** Called before each of a migration's writes: the sandbox's failpoints; production passes none. */
  readonly seam?: WriteSeam;
  /** Seals the journals this runner creates (RUNNER_JOURNAL_KEY_FILE); it acts on no other. */
  readonly seal: JournalSeal;
}

/**
 * A step holds the job's lock only while it runs (seconds), so a short lock is safe, and it lets a
 * successor take over a killed runner's job within seconds rather than a minute. The lock lasts
 * two thirds of the Lease (10 s of 15 s), stalls are looked for every third: a stalled job is
 * handed on about when its Lease runs out. A job is retaken after a stall up to 5 times: steps are
 * idempotent, so a re-run is harmless.
 */
function lockFor(leaseMs: number): { lockDuration: number; stalledInterval: number; maxStalledCount: number } {
  return { lockDuration: Math.round((leaseMs * 2) / 3), stalledInterval: Math.round(leaseMs / 3), maxStalledCount: 5 };
}

type MigrationJob = Job<MigrationJobData & SagaData>;

/** What this process remembers of a migration across the job's runs (each re-check is a run). */
interface Remembered {
  readonly timer: JobTimer;
  readonly entered: Set<string>;
  lastStep: string;
  /** The migration's steps, once its plan is journaled. */
  steps?: readonly Step<MigrationContext>[];
}

export function startMigrationWorker(options: MigrationWorkerOptions): Worker {
  const journal = new MigrationJournal(options.kubeconfig, { seal: options.seal });
  const leaseMs = options.leaseDurationMs ?? 15_000;
  const metrics = options.metrics ?? createRunnerMetrics();
  // What this process remembers of a migration across the job's runs (each re-check is a run).
  const remembered = new Map<string, Remembered>();
  // The Leases of the runs now in this process, by job id: BullMQ's lost locks close them.
  const leases = new Map<string, Set<MigrationLease>>();
  const contextOf = (job: MigrationJob, logger: Logger, fence?: MigrationLease): MigrationContext => migrationContext({
    job: job.data, kubeconfig: options.kubeconfig, cloud: options.cloud, journal, logger, settings: options.settings ?? DEFAULT_RUNNER_SETTINGS,
    onReplicaBack: (_ordinal, downMs) => { metrics.replicaDowntime.observe(downMs / 1000); },
    ...(fence === undefined ? {} : { fence }), ...(options.seam === undefined ? {} : { seam: options.seam }),
    ...(options.sharing === undefined ? {} : { sharing: options.sharing }),
  });
  const process = async (job: MigrationJob, token?: string): Promise<SagaResult> => {
    const logger = options.logger.child({ migrationId: job.data.migrationId, statefulSet: `${job.data.namespace}/${job.data.statefulSet}` });
    // Read before the Lease: a job with nothing to do for this runner leaves no trace in the cluster.
    const gate = await passGate(job, token, contextOf(job, logger), logger);
    if (gate.kind === "end" && gate.tell === undefined) return ended(job, gate);
    const lease = new MigrationLease(options.kubeconfig, { namespace: job.data.namespace, name: leaseName(journalName(job.data.statefulSet, job.data.migrationId)), identity: `${WORKER_IDENTITY}/${token ?? "?"}` }, { durationMs: leaseMs, marginMs: Math.round(leaseMs / 3) });
    const held = leases.get(job.id ?? "") ?? new Set<MigrationLease>();
    leases.set(job.id ?? "", held.add(lease));
    try {
      await lease.acquire().catch((error: unknown) => {
        if (error instanceof FencedError) throw error;
        // Nothing was done yet: a Lease that cannot be written now (the API server down) is tried again later.
        logger.error({ err: error }, "could not take the migration's Lease");
        throw new LeaseHeldError("nobody (it could not be written)", Math.round(leaseMs / 3));
      });
      if (gate.kind === "end") {
        await tellStatefulSet(contextOf(job, logger, lease), gate);
        return ended(job, gate);
      }
      return await runFenced(job, token, lease, logger);
    } catch (error) {
      if (!(error instanceof FencedError)) throw error;
      // Not ours (any more): hand the job back for later, if BullMQ still lets us, and act no more.
      logger.warn({ reason: error.message }, "fenced: this worker stops acting for the migration");
      await job.moveToDelayed(Date.now() + (error instanceof LeaseHeldError ? error.retryInMs : leaseMs), token).catch(() => undefined);
      throw new DelayedError();
    } finally {
      await lease.release();
      held.delete(lease);
      if (held.size === 0) leases.delete(job.id ?? "");
    }
  };
  const runFenced = async (job: MigrationJob, token: string | undefined, lease: MigrationLease, logger: Logger): Promise<SagaResult> => {
    const context = contextOf(job, logger, lease);
    const memory: Remembered = remembered.get(job.data.migrationId) ?? { timer: new JobTimer(metrics), entered: new Set<string>(), lastStep: "precheck" };
    remembered.set(job.data.migrationId, memory);
    // A refused Event or annotation write is the user's view lost for a moment, not the migration's.
    const refused: RefusedReport = (part, error) => {
      metrics.reportFailures.inc({ part: part === "event" ? "event" : "annotations" });
      logger.warn({ part, fault: describeFault(error) }, part === "event" ? "the API server refused the step's Event; the migration goes on" : "the API server refused the status annotations; the migration goes on, the next report writes them again");
    };
    // Forgotten once the result is reported (or given up): a retried report still knows the last step.
    const forget = (result: SagaResult): void => {
      if (remembered.delete(job.data.migrationId)) memory.timer.finished(result.status);
    };
    return runSaga(job, token, context, {
      steps: async () => {
        if (memory.steps !== undefined) return memory.steps;
        const journaled = await context.journal.read(job.data.namespace, journalNameOf(context));
        const steps = stepsFor(journaled, job.data);
        // The plan never changes once journaled: neither do the steps, for the rest of the run.
        if (journaled?.spec.plan !== undefined && journaled.status?.finishedAt === undefined) memory.steps = steps;
        return steps;
      },
      store: journalCheckpointStore(context),
      fence: lease,
      isFenced: (error) => error instanceof FencedError,
      interrupt: () => cancelRequested(context),
      entered: memory.entered,
      onWait: (step, reason) => { logger.debug({ step, reason }, "waiting"); },
      onStep: async (step, phase) => {
        memory.lastStep = step;
        memory.timer.step(step, phase);
        logger.info({ step, phase }, phase === "forward" ? "step" : "compensating");
        await reportStep(context, step, phase, refused);
      },
      onFinished: async (result) => {
        // A rolled-back move is worth a look, a rollback that could not finish needs a person.
        const level = result.status === "RollbackFailed" ? "error" : result.status === "Failed" || result.leftovers === true ? "warn" : "info";
        logger[level]({ result }, "migration finished");
        try {
          await reportResult(context, result, job.data.saga?.failure?.step ?? memory.lastStep, refused);
        } catch (error) {
          // Tried again later only when transient: keep what the retry needs till then.
          if (faultKind(error) !== "transient") forget(result);
          throw error;
        }
        // Forgotten at the end: the same request may run again later (moved away and back).
        forget(result);
      },
      onReportFault: ({ step, error, retryInMs }) => {
        const about = { step: step ?? "result", fault: describeFault(error) };
        if (retryInMs !== undefined) {
          logger.warn({ ...about, retryInMs }, "could not report: trying again after a backoff");
          return;
        }
        metrics.reportFailures.inc({ part: "report" });
        logger.error(about, "gave up a report: the migration goes on (the journal's checkpoint is what it relies on)");
      },
      onSaveFault: ({ error, retryInMs }) => {
        logger.warn({ fault: describeFault(error), retryInMs }, "could not save the saga's checkpoint: the step runs again after a backoff");
      },
    });
  };
  /**
   * The job's gate (runner/job-gate.ts): run the saga, or end the job. A transient fault while
   * looking delays the job.
   */
  const passGate = async (job: MigrationJob, token: string | undefined, context: MigrationContext, logger: Logger): Promise<Gate> => {
    try {
      const gate = await gateJob(context, { journals: journal, concluded: job.data.saga?.phase === "finished" });
      if (gate.kind === "end" && gate.refused) {
        logger.warn({ reason: gate.message }, "job not acted on");
        metrics.jobsRefused.inc();
      } else if (gate.kind === "end") {
        logger.info({ status: gate.status, reason: gate.message }, "nothing to do for the job");
      }
      return gate;
    } catch (error) {
      if (faultKind(error) !== "transient") throw error;
      logger.warn({ fault: describeFault(error) }, "could not check the job against its journal: trying again shortly");
      await job.moveToDelayed(Date.now() + 2_000, token);
      throw new DelayedError();
    }
  };
  /** The result of a job the gate ended; what this process remembered of it is forgotten. */
  const ended = (job: MigrationJob, gate: Extract<Gate, { kind: "end" }>): SagaResult => {
    remembered.delete(job.data.migrationId);
    return { status: gate.status, message: gate.message };
  };
  const worker = new Worker<MigrationJobData & SagaData, SagaResult>(options.queueName ?? MIGRATION_QUEUE, process, {
    connection: bullConnection(redisTarget(options.redisUrl) ?? { kind: "url", url: options.redisUrl }),
    concurrency: options.concurrency,
    ...lockFor(leaseMs),
  });
  worker.on("error", (error) => { options.logger.error({ err: error }, "worker error"); });
  worker.on("lockRenewalFailed", (ids) => {
    for (const id of ids) for (const lease of leases.get(id) ?? []) lease.close("BullMQ lost the job's lock");
  });
  return worker;
}
