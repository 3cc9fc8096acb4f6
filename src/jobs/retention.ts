import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';
import { LeaseSet } from './leases.ts';
import type { JobStore } from './store.ts';

const DAY_MS = 86_400_000;

/**
 * Removes final jobs older than JOB_RETENTION_DAYS (record, event stream, log, index entries) and the
 * global change-log entries older than that. Every process server runs one, but only the holder of a
 * Redis lease (one leader at a time, handed over when its holder dies and the lease expires) sweeps.
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> = Promise.resolve();
  private readonly leader: LeaseSet;
  private readonly retentionMs: number;
  /** Sweep often enough that nothing outlives its retention by more than a tenth (1 s … 60 s). */
  readonly intervalMs: number;

  constructor(private readonly store: JobStore, leaseRedis: Redis, private readonly instance: string, retentionDays: number, private readonly logger: Logger) {
    this.retentionMs = retentionDays * DAY_MS;
    this.intervalMs = Math.min(60_000, Math.max(1000, Math.floor(this.retentionMs / 10)));
    this.leader = new LeaseSet(leaseRedis, 'pi:retention-leader', 1, Math.max(3 * this.intervalMs, 10_000));
  }

  start(): void {
    if (this.retentionMs <= 0) return;
    this.timer = setInterval(() => { this.sweeping = this.sweep().then(() => undefined, (e: Error) => this.logger.warn({ err: e.message }, 'retention sweep failed')); }, this.intervalMs);
    this.timer.unref();
  }

  /** One sweep when this process holds (or takes) the leader lease; returns how many jobs it removed. */
  async sweep(): Promise<number> {
    if (!(await this.leader.acquire(this.instance))) return 0;
    await this.store.indexEndedJobsOnce();
    const cutoff = Date.now() - this.retentionMs;
    let total = 0;
    for (;;) {
      const { removed, more } = await this.store.expireEndedBefore(cutoff);
      total += removed;
      if (!more) break;
    }
    if (total > 0) this.logger.info({ removed: total, retentionDays: this.retentionMs / DAY_MS }, 'retention: removed final jobs past their retention');
    return total;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
    await this.leader.release(this.instance);
  }
}
