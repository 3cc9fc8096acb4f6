// The listener of a process without the api role (ROLES=worker, METRICS_PORT set): its job and task
// metrics are counted where the jobs run, so a scale-out process server must be scraped itself.
// /metrics, /healthz and /readyz only, without a token (nothing secret is in them): bind it to an
// address only Prometheus reaches (HOST, loopback by default).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { registerProcessGauges } from './process-gauges.ts';
import { readiness, type ReadinessDeps } from './readiness.ts';
import type { ApiDeps } from './deps.ts';

export type MetricsServerDeps = ReadinessDeps & Pick<ApiDeps, 'redisState'> & { registry: Registry };

export function buildMetricsServer(deps: MetricsServerDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  registerProcessGauges(deps.registry, deps);
  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { ok, body } = await readiness(deps);
    return reply.code(ok ? 200 : 503).send(body);
  });
  return app;
}
