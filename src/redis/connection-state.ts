import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';

/** Errors that mean "Redis cannot be reached" (as opposed to a command's own error). */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  return Boolean(err && ((err.code && CONNECTION_ERRORS.has(err.code)) || /Connection is closed|All sentinels are unreachable|connect ETIMEDOUT|MaxRetriesPerRequest/i.test(err.message ?? '')));
}

/**
 * Whether this process reaches Redis, from every connection it makes (ours and BullMQ's): one structured
 * warning when it stops reaching it and one line when it reaches it again, however many connections
 * retry meanwhile, and the counts for /metrics.
 */
export class RedisConnectionState {
  private down: { since: number; code: string } | null = null;
  /** How many times the state changed (reachable ⇄ unreachable) since start. */
  changes = 0;

  constructor(private readonly logger: Logger) {}

  get up(): boolean {
    return this.down === null;
  }

  /** Follows a connection: its errors and its return ("ready"). */
  watch(redis: Redis): Redis {
    redis.on('error', (e: Error) => this.error(e));
    redis.on('ready', () => this.ready());
    return redis;
  }

  /** An error from any Redis user; connection errors change the state, others are logged as they come. */
  error(e: unknown, what = 'redis error'): void {
    if (!isConnectionError(e)) {
      this.logger.warn({ err: (e as Error)?.message ?? String(e) }, what);
      return;
    }
    if (this.down) return;
    const err = e as { code?: string; message?: string };
    this.down = { since: Date.now(), code: err.code ?? 'unknown' };
    this.changes += 1;
    this.logger.warn({ event: 'redis-unreachable', code: this.down.code, err: err.message }, 'Redis is unreachable: jobs wait, the API answers 503; reconnecting');
  }

  ready(): void {
    if (!this.down) return;
    const downSec = Math.round((Date.now() - this.down.since) / 1000);
    this.down = null;
    this.changes += 1;
    this.logger.warn({ event: 'redis-reachable', downSec }, 'Redis is reachable again');
  }
}
