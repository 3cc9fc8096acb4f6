// Gauges of this process's own state, served by the API's /metrics and by a worker-only process's
// metrics listener alike.
import { Gauge, type Registry } from 'prom-client';
import type { ApiDeps } from './deps.ts';

/** Vault key agreement and the Redis connection of this process (each when known). */
export function registerProcessGauges(registry: Registry, deps: Pick<ApiDeps, 'keyAgreement' | 'redisState'>): void {
  const registers = [registry];
  const agreement = deps.keyAgreement;
  if (agreement) {
    new Gauge({
      name: 'pushinstalld_vault_key_agreement', registers,
      help: 'Whether this process holds the cluster\'s active vault key (1), or not (0: it takes no job until its key file does).',
      collect() { this.set(agreement.current()?.agreed === false ? 0 : 1); },
    });
  }
  const redis = deps.redisState;
  if (redis) {
    new Gauge({ name: 'pushinstalld_redis_up', help: 'Whether this process reaches Redis.', registers, collect() { this.set(redis.up ? 1 : 0); } });
    new Gauge({
      name: 'pushinstalld_redis_connection_changes', help: 'Times this process lost or regained Redis since it started.', registers,
      collect() { this.set(redis.changes); },
    });
  }
}
