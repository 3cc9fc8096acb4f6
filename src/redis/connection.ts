import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, type RedisSentinelTarget } from '../config.ts';

/** Where Redis is: a redis:// URL, or a primary found through Sentinel. */
export type RedisTarget = string | RedisSentinelTarget;

/** How a target is shown in logs and errors (no password). */
export function describeTarget(target: RedisTarget): string {
  if (typeof target !== 'string') return `sentinel:${target.name}@${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  try {
    const u = new URL(target);
    u.password = '';
    u.username = '';
    return u.toString();
  } catch {
    return 'redis';
  }
}

/**
 * One place that creates Redis connections (so every connection of the daemon, Sentinel or not, is made
 * alike). BullMQ workers need maxRetriesPerRequest: null; API connections fail fast (so the API can answer
 * 503 while Redis, or with Sentinel a primary, is unreachable) but keep reconnecting. After a failover a
 * connection to the old primary gets READONLY: reconnectOnError reconnects (through the sentinels).
 */
export function createRedis(target: RedisTarget, purpose: 'api' | 'worker' | 'blocking'): Redis {
  const options: RedisOptions = {
    lazyConnect: false,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    reconnectOnError: () => true,
  };
  if (purpose === 'api') {
    options.maxRetriesPerRequest = 1;
    options.enableOfflineQueue = false;
  } else {
    options.maxRetriesPerRequest = null;
  }
  if (typeof target === 'string') return new Redis(target, options);
  return new Redis({
    ...options,
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    ...(target.sentinelPassword !== undefined ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    // Keep asking the sentinels while no primary is known (during a failover) rather than giving up.
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    failoverDetector: true,
  });
}

/**
 * At start, every configured sentinel must answer and know the primary: a typo in REDIS_SENTINELS or
 * REDIS_SENTINEL_NAME is a configuration error (exit 2), not an endless reconnect.
 */
export async function checkSentinels(target: RedisSentinelTarget, timeoutMs = 5000): Promise<void> {
  for (const { host, port } of target.sentinels) {
    const probe = new Redis({
      host, port, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false,
      retryStrategy: () => null, ...(target.sentinelPassword !== undefined ? { password: target.sentinelPassword } : {}),
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      const primary = await probe.call('SENTINEL', 'get-master-addr-by-name', target.name);
      if (!primary) throw new ConfigError('REDIS_SENTINEL_NAME', `names no primary the sentinel ${host}:${port} monitors ("${target.name}")`);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError('REDIS_SENTINELS', `has a sentinel that does not answer: ${host}:${port} (${(e as Error).message})`);
    } finally {
      probe.disconnect();
    }
  }
}
