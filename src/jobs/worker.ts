import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeyAgreement, KeyAgreementView } from '../accounts/key-agreement.ts';
import type { Logger } from '../logging/logger.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { runPipeline } from '../pipeline/run.ts';
import { isFinal, type JobRecord } from '../domain/job.ts';
import { Attempt, type PipelineRunner } from './attempt.ts';
import { listenForCancel } from './cancel-channel.ts';
import { CancelledByUser, StalledTooOften, WorkerShutdown } from './failures.ts';
import { guestLease, type LeaseSet } from './leases.ts';
import type { ProcessServerRegistry } from './process-servers.ts';
import { BULL_PREFIX, queueName, type QueueJobData, type Queues } from './queues.ts';
import type { JobMetrics } from './metrics.ts';
import type { JobStore } from './store.ts';
import { cancelJob, failStalledJob } from './transitions.ts';

export interface WorkerOptions {
  processServerId: string;
  /** Jobs this worker process runs at once. */
  concurrency: number;
  /** Jobs all workers of this process server run at once (0: no cap beyond each worker's own). */
  processServerConcurrency: number;
  lockDurationMs: number;
  shutdownGraceMs: number;
  /** How old an active record without a queue entry must be to be queued again (default 30 s; tests shorten it). */
  orphanGraceMs?: number;
}

export interface WorkerDeps {
  /** Leases and the worker's own reads and writes. */
  connection: Redis;
  /** BullMQ's worker (default: `connection`); the daemon keeps BullMQ's scripts off the store's connection (see daemon.ts). */
  queueConnection?: Redis;
  subscriber: Redis;
  store: JobStore;
  /** The one producer of queue entries (orphans are queued again through it). */
  queues: Queues;
  registry: ProcessServerRegistry;
  /** The cap on concurrent pushes across every process server. */
  slots: LeaseSet;
  pipeline: PipelineDeps;
  logger: Logger;
  /** Where BullMQ's worker errors go (Redis unreachable: one line per state change); default: a warning each. */
  onRedisError?: (e: Error) => void;
  /** Runs a job's pipeline (default: the real one; tests script failures with their own). */
  runPipeline?: PipelineRunner;
  /** Prometheus job metrics (copy throughput is reported from the attempt). */
  metrics?: JobMetrics;
  /** The vault key agreement: while this process lacks the cluster's key it takes no job. */
  keyAgreement?: KeyAgreementView;
}

/**
 * A process server's worker: takes jobs from its own queue, runs each attempt (attempt.ts) while holding
 * the job's leases, and keeps the job record up to date. Transient faults are retried by BullMQ with
 * backoff; permanent ones end the job at once (UnrecoverableError).
 */
export class PushWorker {
  private worker: Worker<QueueJobData> | null = null;
  private readonly running = new Map<string, AbortController>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopListening: () => Promise<void> = async () => undefined;
  readonly instance = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(private readonly deps: WorkerDeps, private readonly options: WorkerOptions) {}

  async start(): Promise<void> {
    const { processServerId, concurrency } = this.options;
    await this.beat();
    this.every(10_000, () => this.beat());
    this.stopListening = await listenForCancel(this.deps.subscriber, (jobId) => this.running.get(jobId)?.abort(new CancelledByUser(jobId)));
    await this.limitProcessServer();
    await this.requeueOrphans();
    this.every(60_000, () => this.requeueOrphans());
    this.worker = this.createWorker();
    this.deps.keyAgreement?.onChange((state) => void this.followKeyAgreement(state).catch(() => undefined));
    this.deps.logger.info({ processServerId, concurrency, queue: queueName(processServerId) }, 'worker started');
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const timer = setInterval(() => void fn().catch(() => undefined), ms);
    timer.unref();
    this.timers.push(timer);
  }

  private async beat(): Promise<void> {
    const { pipeline, keyAgreement } = this.deps;
    const agreement = keyAgreement?.current();
    await this.deps.registry.heartbeat(this.options.processServerId, {
      instance: this.instance, pid: process.pid, host: os.hostname(), concurrency: this.options.concurrency,
      installers: pipeline.repository.installers().map(({ file, osTag, version }) => ({ file, osTag, version })),
      keyAgreement: agreement ? (agreement.agreed ? 'agreed' : 'mismatch') : 'unknown',
      version: pipeline.settings.csVersion ?? null,
    });
  }

  /** Takes no job while this process lacks the cluster's vault key (jobs already taken are handed back by their attempt). */
  private async followKeyAgreement(state: KeyAgreement): Promise<void> {
    const worker = this.worker;
    if (!worker || worker.closing) return;
    if (state.agreed) worker.resume();
    else await worker.pause(true);
    await this.beat();
  }

  /** BullMQ's queue-wide concurrency is this process server's cap, shared by all its workers (0 would mean "none may run"). */
  private async limitProcessServer(): Promise<void> {
    const queue = this.deps.queues.get(this.options.processServerId);
    if (this.options.processServerConcurrency > 0) await queue.setGlobalConcurrency(this.options.processServerConcurrency);
    else await queue.removeGlobalConcurrency();
  }

  private createWorker(): Worker<QueueJobData> {
    const { processServerId, concurrency, lockDurationMs } = this.options;
    const worker = new Worker<QueueJobData>(queueName(processServerId), (job, token) => this.process(job, token), {
      connection: this.deps.queueConnection ?? this.deps.connection,
      prefix: BULL_PREFIX,
      concurrency,
      lockDuration: lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(lockDurationMs / 2)),
      maxStalledCount: 3,
    });
    worker.on('error', this.deps.onRedisError ?? ((e) => this.deps.logger.warn({ err: e.message }, 'worker error')));
    worker.on('failed', (job) => { if (job) void this.recordStalled(job).catch(() => undefined); });
    return worker;
  }

  /** BullMQ fails a job itself when it stalled too often (its workers kept dying): end the record too. */
  private async recordStalled(job: Job<QueueJobData>): Promise<void> {
    // Only when BullMQ gave up on its own; our processor has already recorded every other failure.
    const stalled = StalledTooOften.of(job);
    if (!stalled) return;
    const error = stalled.toJobError();
    await this.deps.store.update(job.data.jobId, (j) => failStalledJob(j, error));
  }

  /**
   * Puts back on the queue any job of this process server whose record is active but whose queue entry
   * is gone (a crash between storing the record and queueing it, or an AOF tail lost with Redis): no job
   * is lost, and it keeps its retries (the one producer queues it).
   */
  private async requeueOrphans(): Promise<void> {
    const { store, queues, logger } = this.deps;
    const ps = this.options.processServerId;
    const graceMs = this.options.orphanGraceMs ?? 30_000;
    for (const jobId of await store.activeJobIds()) {
      const record = await store.get(jobId);
      if (!record || isFinal(record.state) || record.processServerId !== ps) continue;
      if (await queues.has(ps, jobId)) continue;
      // Created just now by the API and about to be queued: leave it alone.
      if (Date.now() - Date.parse(record.createdAt) < graceMs) continue;
      await queues.enqueue(ps, jobId);
      logger.warn({ jobId }, 'job record had no queue entry; queued it again');
    }
  }

  private async process(bullJob: Job<QueueJobData>, token?: string): Promise<void> {
    const { store } = this.deps;
    const jobId = bullJob.data.jobId;
    const record = await store.get(jobId);
    if (!record || isFinal(record.state) || record.cancelRequested) {
      // A lease an earlier, handed-back attempt kept is given back: this job runs nothing more.
      if (record) await this.guestLease(record.machine.address).release(jobId);
      if (record?.cancelRequested) await store.update(jobId, (j) => cancelJob(j));
      return;
    }
    const leases = await this.acquireLeases(jobId, record.machine.address);
    if (!leases) {
      // Back to the queue shortly, without counting an attempt.
      await bullJob.moveToDelayed(Date.now() + 500 + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }
    const outcome = { handedBack: false };
    try {
      await this.run(bullJob, token, record, outcome);
    } finally {
      // Sent now, not waited for: BullMQ hands this slot its next job meanwhile (a job that finds a lease
      // still held goes back to the queue for a moment; a lease a crash never gives back runs out).
      void leases.release(outcome.handedBack);
    }
  }

  private guestLease(address: string): LeaseSet {
    return guestLease(this.deps.connection, address);
  }

  /**
   * One push at a time per guest address (two inventory entries for one machine must not run two
   * installers side by side), and at most GLOBAL_CONCURRENCY pushes across all process servers. Returns
   * the release of both, or null when either is taken (then nothing is held). A handed-back job keeps
   * its guest lease (a command it started may still run there) for up to a step's timeout: its next
   * attempt takes it over (same holder) and releases it at its end; other jobs for that guest wait.
   */
  private async acquireLeases(jobId: string, address: string): Promise<{ release: (handedBack: boolean) => Promise<void> } | null> {
    const { slots } = this.deps;
    const guest = this.guestLease(address);
    const gotSlot = await slots.acquire(jobId);
    const gotGuest = gotSlot && (await guest.acquire(jobId));
    if (!gotGuest) {
      if (gotSlot) await slots.release(jobId);
      return null;
    }
    const releaseSlot = slots.keep(jobId);
    const releaseGuest = guest.keep(jobId);
    const holdMs = this.deps.pipeline.settings?.stepTimeoutMs ?? 1_800_000;
    return {
      release: async (handedBack) => {
        await releaseGuest(handedBack ? { holdMs } : {});
        await releaseSlot();
      },
    };
  }

  /** Runs one attempt; `outcome.handedBack` tells whether it went back to the queue (the worker shuts down). */
  private async run(bullJob: Job<QueueJobData>, token: string | undefined, record: JobRecord, outcome: { handedBack: boolean }): Promise<void> {
    const jobId = bullJob.data.jobId;
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      const { store, logger, pipeline } = this.deps;
      const env = { store, logger, pipeline, runPipeline: this.deps.runPipeline ?? runPipeline, processServerId: this.options.processServerId, worker: this.instance,
        metrics: this.deps.metrics, keyAgreement: this.deps.keyAgreement };
      const attempt = new Attempt(env, bullJob, token, controller.signal, record.machine.machineId);
      try { await attempt.run(record); } finally { outcome.handedBack = attempt.handedBack; }
    } finally {
      this.running.delete(jobId);
    }
  }

  /** Stops taking jobs and waits for the running ones (bounded by shutdownGraceMs, then handed back). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    const worker = this.worker;
    if (!worker) return;
    const closing = worker.close();
    const timer = setTimeout(() => {
      for (const c of this.running.values()) c.abort(new WorkerShutdown());
    }, this.options.shutdownGraceMs);
    await closing;
    clearTimeout(timer);
    await this.stopListening();
  }

  runningJobs(): string[] {
    return [...this.running.keys()];
  }
}
