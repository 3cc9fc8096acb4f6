import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import type { Logger } from '../logging/logger.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { runPipeline } from '../pipeline/run.ts';
import { redactedJobError, StoreJobContext, toPushError } from './job-context.ts';
import type { ProcessServerRegistry } from './process-servers.ts';
import { BULL_PREFIX, queueName, type QueueJobData } from './queues.ts';
import { CANCEL_CHANNEL, markCancelled } from './service.ts';
import type { JobStore } from './store.ts';
import { isFinal, type JobRecord } from './types.ts';

export interface WorkerOptions {
  processServerId: string;
  concurrency: number;
  lockDurationMs: number;
  shutdownGraceMs: number;
}

/**
 * A process server's worker: takes jobs from its own queue, runs the pipeline, and keeps the job record
 * up to date. Transient faults are retried by BullMQ with backoff; permanent ones end the job at once
 * (UnrecoverableError).
 */
export class PushWorker {
  private worker: Worker<QueueJobData> | null = null;
  private readonly running = new Map<string, AbortController>();
  private heartbeat: NodeJS.Timeout | null = null;
  readonly instance = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly deps: {
      connection: Redis;
      subscriber: Redis;
      store: JobStore;
      registry: ProcessServerRegistry;
      pipeline: PipelineDeps;
      logger: Logger;
    },
    private readonly options: WorkerOptions,
  ) {}

  async start(): Promise<void> {
    const { processServerId, concurrency } = this.options;
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), 10_000);
    this.heartbeat.unref();
    await this.deps.subscriber.subscribe(CANCEL_CHANNEL);
    this.deps.subscriber.on('message', (channel: string, jobId: string) => {
      if (channel === CANCEL_CHANNEL) this.running.get(jobId)?.abort(new Error('cancelled'));
    });
    this.worker = new Worker<QueueJobData>(queueName(processServerId), (job) => this.process(job), {
      connection: this.deps.connection,
      prefix: BULL_PREFIX,
      concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(this.options.lockDurationMs / 2)),
      maxStalledCount: 3,
    });
    this.worker.on('error', (e) => this.deps.logger.warn({ err: e.message }, 'worker error'));
    this.deps.logger.info({ processServerId, concurrency, queue: queueName(processServerId) }, 'worker started');
  }

  private async beat(): Promise<void> {
    await this.deps.registry.heartbeat(this.options.processServerId, {
      instance: this.instance, pid: process.pid, host: os.hostname(), concurrency: this.options.concurrency,
    });
  }

  private async process(bullJob: Job<QueueJobData>): Promise<void> {
    const { store, logger } = this.deps;
    const jobId = bullJob.data.jobId;
    const record = await store.get(jobId);
    if (!record || isFinal(record.state)) return;
    if (record.cancelRequested) {
      await store.update(jobId, (j) => { if (!isFinal(j.state)) markCancelled(j); else return false; });
      return;
    }
    const attempt = bullJob.attemptsMade + 1;
    const maxAttempts = bullJob.opts.attempts ?? 1;
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const log = logger.child({ jobId, machineId: record.machine.machineId, attempt });
    try {
      const started = await store.update(jobId, (j) => {
        const now = new Date().toISOString();
        j.state = 'InProgress';
        j.startedAt ??= now;
        j.attempts += 1;
        j.attemptLog = [...(j.attemptLog ?? []), { attempt: j.attempts, startedAt: now, processServerId: this.options.processServerId, worker: this.instance }];
        // A new attempt runs every task again (each one skips what is already done on the machine).
        for (const t of j.tasks) { t.state = 'NotStarted'; delete t.startedAt; delete t.endedAt; delete t.message; t.errors = []; }
        j.errors = [];
      });
      const ctx = new StoreJobContext(started, store, controller.signal, (line) => log.info(line), attempt >= maxAttempts);
      ctx.log(`attempt ${attempt} of ${maxAttempts} on process server ${this.options.processServerId} (${this.instance})`);
      try {
        const outcome = await runPipeline(ctx, this.deps.pipeline);
        await ctx.flushLog();
        await store.update(jobId, (j) => {
          const now = new Date().toISOString();
          j.state = outcome.state;
          j.endedAt = now;
          j.errors = outcome.warnings;
          delete j.cancelRequested;
          closeAttempt(j, now);
        });
        log.info({ state: outcome.state }, 'job ended');
      } catch (e) {
        const err = toPushError(e, controller.signal);
        await ctx.flushLog();
        const latest = await store.get(jobId);
        if (controller.signal.aborted || err.code === Codes.Cancelled || latest?.cancelRequested) {
          await store.update(jobId, (j) => {
            if (isFinal(j.state)) return false;
            markCancelled(j);
            j.errors = [redactedJobError(err.code === Codes.Cancelled ? err : toPushError(new Error('cancelled'), controller.signal))];
            closeAttempt(j, j.endedAt as string);
          });
          log.info('job cancelled');
          return;
        }
        const jobError = redactedJobError(err);
        if (err.retryable && attempt < maxAttempts) {
          const delay = computeBackoff(bullJob, attempt);
          await store.update(jobId, (j) => {
            const now = new Date().toISOString();
            closeAttempt(j, now, jobError, new Date(Date.now() + delay).toISOString());
            j.errors = [jobError];
          });
          await store.appendLog(jobId, `attempt ${attempt} failed with ${err.code} (transient): retrying in ${Math.round(delay / 1000)} s`);
          log.warn({ code: err.code, delay }, 'transient failure, will retry');
          throw new Error(`${err.code}: ${err.message}`, { cause: e });
        }
        await store.update(jobId, (j) => {
          const now = new Date().toISOString();
          j.state = 'Failed';
          j.endedAt = now;
          j.errors = [jobError];
          delete j.cancelRequested;
          closeAttempt(j, now, jobError);
        });
        log.warn({ code: err.code }, 'job failed');
        throw Object.assign(new UnrecoverableError(`${err.code}: ${err.message}`), { cause: e });
      }
    } finally {
      this.running.delete(jobId);
    }
  }

  /** Stops taking jobs and waits for the running ones (bounded by shutdownGraceMs). */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const worker = this.worker;
    if (!worker) return;
    const closing = worker.close();
    const timer = setTimeout(() => {
      for (const c of this.running.values()) c.abort(new Error('shutdown'));
    }, this.options.shutdownGraceMs);
    await closing;
    clearTimeout(timer);
    await this.deps.subscriber.unsubscribe(CANCEL_CHANNEL).catch(() => undefined);
  }

  runningJobs(): string[] {
    return [...this.running.keys()];
  }
}

function closeAttempt(j: JobRecord, at: string, error?: ReturnType<typeof redactedJobError>, retryAt?: string): void {
  const last = j.attemptLog?.[j.attemptLog.length - 1];
  if (!last || last.endedAt) return;
  last.endedAt = at;
  if (error) last.error = error;
  if (retryAt) last.retryAt = retryAt;
}

function computeBackoff(job: Job<QueueJobData>, attempt: number): number {
  const backoff = job.opts.backoff;
  const delay = typeof backoff === 'number' ? backoff : backoff?.delay ?? 0;
  return typeof backoff === 'object' && backoff.type === 'exponential' ? delay * 2 ** (attempt - 1) : delay;
}
