import type { Redis } from 'ioredis';

const KEY = 'pi:global-slots';

// KEYS: slots   ARGV: jobId, now, expiry, cap
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
`;

/**
 * The cap on concurrent pushes across every process server: a lease per running job in a sorted set
 * (score = lease expiry), renewed while the job runs, so a worker that dies gives its slots back when
 * the leases run out.
 */
export class GlobalSlots {
  constructor(private readonly redis: Redis, private readonly cap: number, private readonly leaseMs = 30_000) {}

  get enabled(): boolean {
    return this.cap > 0;
  }

  async acquire(jobId: string): Promise<boolean> {
    if (!this.enabled) return true;
    const now = Date.now();
    return (await this.redis.eval(ACQUIRE, 1, KEY, jobId, String(now), String(now + this.leaseMs), String(this.cap))) === 1;
  }

  /** Keeps the lease alive while `work` runs; releases it after. */
  async hold<T>(jobId: string, work: () => Promise<T>): Promise<T> {
    if (!this.enabled) return work();
    const timer = setInterval(() => {
      void this.redis.zadd(KEY, 'XX', String(Date.now() + this.leaseMs), jobId).catch(() => undefined);
    }, Math.floor(this.leaseMs / 3));
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await this.redis.zrem(KEY, jobId).catch(() => undefined);
    }
  }

  async inUse(): Promise<number> {
    await this.redis.zremrangebyscore(KEY, '-inf', String(Date.now()));
    return this.redis.zcard(KEY);
  }
}
