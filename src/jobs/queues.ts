import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ key prefix: all queue keys live under it, apart from our own `pi:` job records. */
export const BULL_PREFIX = 'pi-bull';

/** One queue per process server: a job runs only on the process server it names. */
export function queueName(processServerId: string): string {
  return `push-${processServerId}`;
}

export interface QueueJobData {
  jobId: string;
}

/**
 * The one producer of queue entries (submit, restart, and the worker's re-queue of orphaned records), so
 * every entry gets the same attempts, backoff and retention; and a cached Queue per process server.
 */
export class Queues {
  private readonly queues = new Map<string, Queue<QueueJobData>>();

  constructor(
    private readonly connection: Redis,
    private readonly retry: { attempts: number; backoffMs: number },
    /** Where the queues' errors go (without a listener BullMQ prints each one). */
    private readonly onError: (e: Error) => void = () => undefined,
  ) {}

  get(processServerId: string): Queue<QueueJobData> {
    let q = this.queues.get(processServerId);
    if (!q) {
      q = new Queue<QueueJobData>(queueName(processServerId), { connection: this.connection, prefix: BULL_PREFIX });
      q.on('error', this.onError);
      this.queues.set(processServerId, q);
    }
    return q;
  }

  async enqueue(processServerId: string, jobId: string): Promise<void> {
    await this.get(processServerId).add('push', { jobId }, this.jobOptions(jobId));
  }

  /** Queues many jobs of one process server in one step (BullMQ addBulk: one MULTI, all or none). */
  async enqueueMany(processServerId: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length === 0) return;
    await this.get(processServerId).addBulk(jobIds.map((jobId) => ({ name: 'push', data: { jobId }, opts: this.jobOptions(jobId) })));
  }

  private jobOptions(jobId: string): JobsOptions {
    return {
      jobId,
      attempts: this.retry.attempts,
      backoff: { type: 'exponential', delay: this.retry.backoffMs },
      removeOnComplete: { age: 3600, count: 5000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    };
  }

  /** Whether the queue still holds an entry for the job (in any state). */
  async has(processServerId: string, jobId: string): Promise<boolean> {
    return Boolean(await this.get(processServerId).getJob(jobId));
  }

  /** Removes a job that no worker holds (waiting or delayed). True when it was removed. */
  async removeIfIdle(processServerId: string, jobId: string): Promise<boolean> {
    const job = await this.get(processServerId).getJob(jobId);
    if (!job) return false;
    try {
      const state = await job.getState();
      if (state === 'active') return false;
      await job.remove();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
