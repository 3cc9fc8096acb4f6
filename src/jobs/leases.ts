import type { Redis } from 'ioredis';

// KEYS: set   ARGV: holder, now, expiry, cap
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
`;

/**
 * A counting semaphore in Redis shared by every worker process: at most `cap` holders, each a lease in a
 * sorted set (score = expiry) that is renewed while the holder works, so a worker that dies gives its
 * places back when its leases run out. Used for the cap on concurrent pushes across all process servers
 * and for "one push at a time per guest address".
 */
export class LeaseSet {
  constructor(private readonly redis: Redis, private readonly key: string, private readonly cap: number, private readonly leaseMs = 30_000) {}

  get enabled(): boolean {
    return this.cap > 0;
  }

  async acquire(holder: string): Promise<boolean> {
    if (!this.enabled) return true;
    const now = Date.now();
    return (await this.redis.eval(ACQUIRE, 1, this.key, holder, String(now), String(now + this.leaseMs), String(this.cap))) === 1;
  }

  /**
   * Renews the lease every leaseMs/3 until the returned function is called, which releases it, or with
   * `holdMs` stops renewing and leaves it held that long (for the holder's next turn, e.g. a handed-back job).
   */
  keep(holder: string): (opts?: { holdMs?: number }) => Promise<void> {
    if (!this.enabled) return async () => undefined;
    const timer = setInterval(() => {
      void this.redis.zadd(this.key, 'XX', String(Date.now() + this.leaseMs), holder).catch(() => undefined);
    }, Math.floor(this.leaseMs / 3));
    return async (opts = {}) => {
      clearInterval(timer);
      if (opts.holdMs) await this.redis.zadd(this.key, 'XX', String(Date.now() + opts.holdMs), holder).catch(() => undefined);
      else await this.redis.zrem(this.key, holder).catch(() => undefined);
    };
  }

  async release(holder: string): Promise<void> {
    await this.redis.zrem(this.key, holder).catch(() => undefined);
  }

  async holders(): Promise<number> {
    await this.redis.zremrangebyscore(this.key, '-inf', String(Date.now()));
    return this.redis.zcard(this.key);
  }
}

export function guestLeaseKey(address: string): string {
  return `pi:guest-lease:${address.toLowerCase()}`;
}

/** "One push at a time per guest address": a lease set of one. */
export function guestLease(redis: Redis, address: string): LeaseSet {
  return new LeaseSet(redis, guestLeaseKey(address), 1);
}
