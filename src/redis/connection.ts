import { Redis, type RedisOptions } from 'ioredis';

/**
 * One place that creates Redis connections. BullMQ workers need maxRetriesPerRequest: null; API
 * connections fail fast (so the API can answer 503 while Redis is down) but keep reconnecting.
 */
export function createRedis(url: string, purpose: 'api' | 'worker' | 'blocking'): Redis {
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
  return new Redis(url, options);
}
