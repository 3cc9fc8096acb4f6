import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { VaultKeyNotHeld, type KeyAgreementView } from '../accounts/key-agreement.ts';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import type { Logger } from '../logging/logger.ts';
import type { JobContext, PipelineOutcome } from '../pipeline/context.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { isFinal, type JobError, type JobRecord } from '../domain/job.ts';
import { abortedForShutdown, redactedJobError, toPushError } from './failures.ts';
import { StoreJobContext } from './job-context.ts';
import type { JobMetrics } from './metrics.ts';
import type { QueueJobData } from './queues.ts';
import type { JobStore } from './store.ts';
import { cancelJob, completeJob, handBack, scheduleRetry, startAttempt } from './transitions.ts';

export type PipelineRunner = (ctx: JobContext, deps: PipelineDeps) => Promise<PipelineOutcome>;

/** What an attempt needs of the worker running it. */
export interface AttemptEnv {
  store: JobStore;
  logger: Logger;
  pipeline: PipelineDeps;
  runPipeline: PipelineRunner;
  processServerId: string;
  /** The worker instance (host:pid:id), shown in the attempt log. */
  worker: string;
  metrics?: JobMetrics | undefined;
  /** The vault key agreement: a record under a key this process lacks is handed back while it disagrees. */
  keyAgreement?: KeyAgreementView;
}

/**
 * One attempt of a job on this worker: starts it on the record, runs the pipeline and records how it
 * ended. What it throws tells BullMQ what comes next: an Error, another attempt after the backoff;
 * UnrecoverableError, none (the job has failed); DelayedError, none now (handed back, already delayed).
 */
export class Attempt {
  private readonly jobId: string;
  private readonly number: number;
  private readonly max: number;
  private readonly log: Logger;
  /** Set when the attempt went back to the queue because the worker shuts down (its guest lease is then kept). */
  handedBack = false;

  constructor(
    private readonly env: AttemptEnv,
    private readonly bullJob: Job<QueueJobData>,
    private readonly token: string | undefined,
    private readonly signal: AbortSignal,
    machineId: string,
  ) {
    this.jobId = bullJob.data.jobId;
    this.number = bullJob.attemptsMade + 1;
    this.max = bullJob.opts.attempts ?? 1;
    this.log = env.logger.child({ jobId: this.jobId, machineId, attempt: this.number });
  }

  /** `record`: the job as the worker just read it (the start is a compare-and-set on it: no second read). */
  async run(record: JobRecord): Promise<void> {
    const { store, processServerId, worker } = this.env;
    if (isFinal(record.state)) return;
    const started = await store.update(this.jobId, (j) => startAttempt(j, { processServerId, worker }), record);
    if (isFinal(started.state)) return;
    const ctx = new StoreJobContext(started, store, this.signal, (line) => this.log.info(line), this.number >= this.max,
      (bytes, seconds) => this.env.metrics?.copied(started, bytes, seconds));
    // The queue's count; a hand-back is counted by neither the queue nor the record (see handBack()).
    ctx.log(`attempt ${this.number} of ${this.max} on process server ${processServerId} (${worker})`);
    try {
      const outcome = await this.env.runPipeline(ctx, this.env.pipeline);
      // The last log lines, the pipeline's last task changes and the job's end: written together.
      await ctx.finish((j) => completeJob(j, { state: outcome.state, errors: outcome.warnings }));
      this.log.info({ state: outcome.state }, 'job ended');
    } catch (e) {
      await ctx.flushLog();
      await this.failed(e);
    } finally {
      ctx.end();
    }
  }

  private async failed(thrown: unknown): Promise<void> {
    let e = thrown;
    if (e instanceof VaultKeyNotHeld) {
      // Mis-keyed (the key was rotated elsewhere): another worker, or this one once its key file is
      // updated, runs the job; only a record the active key cannot decrypt fails (99025).
      const state = await this.env.keyAgreement?.checkNow().catch(() => null);
      if (state && !state.agreed) return this.handBack(`worker ${this.env.worker} lacks the cluster's vault key ${state.activeKeyId ?? ''}`, 1000, 'its key file does not hold the active key');
      e = e.undecryptable;
    }
    const err = toPushError(e, this.signal);
    if (abortedForShutdown(this.signal)) return this.handBack();
    if (this.signal.aborted || err.code === Codes.Cancelled || (await this.env.store.get(this.jobId))?.cancelRequested) return this.cancelled(err);
    const jobError = redactedJobError(err);
    if (err.retryable && this.number < this.max) return this.retryLater(err, jobError, e);
    return this.giveUp(err, jobError, e);
  }

  /**
   * The worker shuts down (or lacks the vault key): another worker (or this one after a restart) runs the
   * job again from the start, without it counting as an attempt. A command it started on the guest may
   * still run there: the worker keeps the guest lease and the next attempt waits for that command first.
   */
  private async handBack(
    reason = `worker ${this.env.worker} is shutting down`,
    delayMs = 0,
    why = 'the attempt did not end within SHUTDOWN_GRACE_SEC',
  ): Promise<never> {
    this.handedBack = true;
    await this.env.store.update(this.jobId, (j) => handBack(j, `${reason}: ${why}`));
    await this.env.store.appendLog(this.jobId, `${reason}: job handed back to the queue (attempt ${this.number} of ${this.max} is not counted; the next attempt waits for a command still running on the guest)`);
    await this.bullJob.moveToDelayed(Date.now() + delayMs, this.token);
    throw new DelayedError();
  }

  /** Cancelled by a user (aborted, or the failure raced the cancel request): the job ends Cancelled. */
  private async cancelled(err: PushError): Promise<void> {
    const error = redactedJobError(err.code === Codes.Cancelled ? err : new PushError(Codes.Cancelled));
    await this.env.store.update(this.jobId, (j) => cancelJob(j, error));
    this.log.info('job cancelled');
  }

  private async retryLater(err: PushError, jobError: JobError, cause: unknown): Promise<never> {
    const delay = computeBackoff(this.bullJob, this.number);
    await this.env.store.update(this.jobId, (j) => scheduleRetry(j, jobError, new Date(Date.now() + delay).toISOString()));
    await this.env.store.appendLog(this.jobId, `attempt ${this.number} failed with ${err.code} (transient): retrying in ${Math.round(delay / 1000)} s`);
    this.log.warn({ code: err.code, delay }, 'transient failure, will retry');
    throw new Error(`${err.code}: ${err.message}`, { cause });
  }

  private async giveUp(err: PushError, jobError: JobError, cause: unknown): Promise<never> {
    await this.env.store.update(this.jobId, (j) => completeJob(j, { state: 'Failed', errors: [jobError] }));
    this.log.warn({ code: err.code }, 'job failed');
    throw Object.assign(new UnrecoverableError(`${err.code}: ${err.message}`), { cause });
  }
}

/** The delay BullMQ waits before the next attempt (as its built-in fixed and exponential strategies compute it). */
function computeBackoff(job: Job<QueueJobData>, attempt: number): number {
  const backoff = job.opts.backoff;
  const delay = typeof backoff === 'number' ? backoff : backoff?.delay ?? 0;
  return typeof backoff === 'object' && backoff.type === 'exponential' ? delay * 2 ** (attempt - 1) : delay;
}
