import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import type { Logger } from '../logging/logger.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { runPipeline } from '../pipeline/run.ts';
import { redactedJobError, StoreJobContext, toPushError } from './job-context.ts';
import type { ProcessServerRegistry } from './process-servers.ts';
import { guestLeaseKey, LeaseSet } from './leases.ts';
import { BULL_PREFIX, queueName, type QueueJobData } from './queues.ts';
import { CANCEL_CHANNEL, markCancelled } from './service.ts';
import type { JobMetrics } from './metrics.ts';
import type { JobStore } from './store.ts';
import { isFinal, type JobRecord } from '../domain/job.ts';

export interface WorkerOptions {
  processServerId: string;
  /** Jobs this worker process runs at once. */
  concurrency: number;
  /** Jobs all workers of this process server run at once (0: no cap beyond each worker's own). */
  processServerConcurrency: number;
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
  private sweeper: NodeJS.Timeout | null = null;
  private queue: Queue<QueueJobData> | null = null;
  private stopping = false;
  readonly instance = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly deps: {
      connection: Redis;
      subscriber: Redis;
      store: JobStore;
      registry: ProcessServerRegistry;
      /** The cap on concurrent pushes across every process server. */
      slots: LeaseSet;
      pipeline: PipelineDeps;
      logger: Logger;
      metrics?: JobMetrics;
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
    this.queue = new Queue<QueueJobData>(queueName(processServerId), { connection: this.deps.connection, prefix: BULL_PREFIX });
    // BullMQ's queue-wide concurrency is this process server's cap, shared by all its workers (0 would mean "none may run").
    if (this.options.processServerConcurrency > 0) await this.queue.setGlobalConcurrency(this.options.processServerConcurrency);
    else await this.queue.removeGlobalConcurrency();
    await this.requeueOrphans();
    this.sweeper = setInterval(() => void this.requeueOrphans().catch(() => undefined), 60_000);
    this.sweeper.unref();
    this.worker = new Worker<QueueJobData>(queueName(processServerId), (job, token) => this.process(job, token), {
      connection: this.deps.connection,
      prefix: BULL_PREFIX,
      concurrency,
      lockDuration: this.options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(this.options.lockDurationMs / 2)),
      maxStalledCount: 3,
    });
    this.worker.on('error', (e) => this.deps.logger.warn({ err: e.message }, 'worker error'));
    // BullMQ fails a job itself when it stalled too often (its workers kept dying): end the record too.
    this.worker.on('failed', (job, err) => {
      // Only when BullMQ gives up on its own; our processor has already recorded every other failure.
      if (!job || !/stalled/i.test(err.message)) return;
      void this.deps.store.update(job.data.jobId, (j) => {
        if (isFinal(j.state)) return false;
        const now = new Date().toISOString();
        j.state = 'Failed';
        j.endedAt = now;
        j.errors = [redactedJobError(new PushError(Codes.Internal, { reason: err.message }, { message: `The job could not be completed: ${err.message}` }))];
        closeAttempt(j, now, j.errors[0]);
      }).catch(() => undefined);
    });
    this.deps.logger.info({ processServerId, concurrency, queue: queueName(processServerId) }, 'worker started');
  }

  private async beat(): Promise<void> {
    await this.deps.registry.heartbeat(this.options.processServerId, {
      instance: this.instance, pid: process.pid, host: os.hostname(), concurrency: this.options.concurrency,
    });
  }

  /**
   * Puts back on the queue any job of this process server whose record is active but whose queue entry
   * is gone (a crash between storing the record and queueing it, or an AOF tail lost with Redis): no job
   * is lost.
   */
  private async requeueOrphans(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    for (const jobId of await this.deps.store.activeJobIds()) {
      const record = await this.deps.store.get(jobId);
      if (!record || isFinal(record.state) || record.processServerId !== this.options.processServerId) continue;
      if (await queue.getJob(jobId)) continue;
      // Created just now by the API and about to be queued: leave it alone.
      if (Date.now() - Date.parse(record.createdAt) < 30_000) continue;
      await queue.add('push', { jobId }, { jobId, attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 24 * 3600 } });
      this.deps.logger.warn({ jobId }, 'job record had no queue entry; queued it again');
    }
  }

  private async process(bullJob: Job<QueueJobData>, token?: string): Promise<void> {
    const { store } = this.deps;
    const jobId = bullJob.data.jobId;
    const record = await store.get(jobId);
    if (!record || isFinal(record.state)) return;
    if (record.cancelRequested) {
      await store.update(jobId, (j) => { if (!isFinal(j.state)) markCancelled(j); else return false; });
      return;
    }
    // One push at a time per guest address (two inventory entries for one machine must not run two
    // installers side by side), and at most GLOBAL_CONCURRENCY pushes across all process servers.
    const guest = new LeaseSet(this.deps.connection, guestLeaseKey(record.machine.address), 1);
    const gotSlot = await this.deps.slots.acquire(jobId);
    const gotGuest = gotSlot && (await guest.acquire(jobId));
    if (!gotGuest) {
      if (gotSlot) await this.deps.slots.release(jobId);
      // Back to the queue shortly, without counting an attempt.
      await bullJob.moveToDelayed(Date.now() + 500 + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }
    const releaseSlot = this.deps.slots.keep(jobId);
    const releaseGuest = guest.keep(jobId);
    try {
      return await this.run(bullJob, token);
    } finally {
      await releaseGuest();
      await releaseSlot();
    }
  }

  private async run(bullJob: Job<QueueJobData>, token?: string): Promise<void> {
    const { store, logger } = this.deps;
    const jobId = bullJob.data.jobId;
    const record = await store.get(jobId);
    if (!record || isFinal(record.state)) return;
    const attempt = bullJob.attemptsMade + 1;
    const maxAttempts = bullJob.opts.attempts ?? 1;
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const log = logger.child({ jobId, machineId: record.machine.machineId, attempt });
    try {
      const started = await store.update(jobId, (j) => {
        const now = new Date().toISOString();
        const previous = j.attemptLog?.[j.attemptLog.length - 1];
        if (previous && !previous.endedAt) {
          // The worker running the previous attempt died (stalled-job recovery brought the job here).
          previous.endedAt = now;
          previous.error = redactedJobError(new PushError(Codes.ConnectionLost, { reason: `worker ${previous.worker} stopped during the attempt` }, { message: 'The process server running this attempt stopped; the job was taken up again.', retryable: true }));
        }
        j.state = 'InProgress';
        j.startedAt ??= now;
        j.attempts += 1;
        j.attemptLog = [...(j.attemptLog ?? []), { attempt: j.attempts, startedAt: now, processServerId: this.options.processServerId, worker: this.instance }];
        // A new attempt runs every task again (each one skips what is already done on the machine).
        for (const t of j.tasks) { t.state = 'NotStarted'; delete t.startedAt; delete t.endedAt; delete t.message; t.errors = []; }
        j.errors = [];
      });
      const ctx = new StoreJobContext(started, store, controller.signal, (line) => log.info(line), attempt >= maxAttempts,
        (bytes, seconds) => this.deps.metrics?.copied(started, bytes, seconds));
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
        if (this.stopping && controller.signal.aborted && controller.signal.reason instanceof Error && controller.signal.reason.message === 'shutdown') {
          // Hand the job back: another worker (or this one after a restart) runs it again from the start.
          await store.update(jobId, (j) => {
            if (isFinal(j.state)) return false;
            j.state = 'NotStarted';
            const last = j.attemptLog?.[j.attemptLog.length - 1];
            if (last && !last.endedAt) last.endedAt = new Date().toISOString();
            for (const t of j.tasks) if (t.state === 'InProgress' || t.state === 'Cancelled') t.state = 'NotStarted';
          });
          await store.appendLog(jobId, `worker ${this.instance} is shutting down: job handed back to the queue`);
          await bullJob.moveToDelayed(Date.now(), token);
          throw new DelayedError();
        }
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
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.sweeper) clearInterval(this.sweeper);
    const worker = this.worker;
    if (!worker) return;
    const closing = worker.close();
    const timer = setTimeout(() => {
      for (const c of this.running.values()) c.abort(new Error('shutdown'));
    }, this.options.shutdownGraceMs);
    await closing;
    clearTimeout(timer);
    await this.queue?.close();
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
