import fp from 'fastify-plugin';
import { Counter, Gauge, type Registry } from 'prom-client';
import { JOB_STATES } from '../../domain/job.ts';
import type { ApiDeps } from '../deps.ts';
import { registerProcessGauges } from '../process-gauges.ts';
import { TOKEN_ROLES } from '../tokens.ts';

/** The gauges read at scrape time from Redis and the repository (what every API process sees alike). */
function registerGauges(registry: Registry, deps: ApiDeps): void {
  const registers = [registry];
  new Gauge({
    name: 'pushinstalld_jobs', help: 'Job records by state.', labelNames: ['state'], registers,
    async collect() {
      const counts = await deps.jobs.countsByState();
      for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'pushinstalld_queue_jobs', help: 'BullMQ jobs per process server queue and state.', labelNames: ['process_server', 'state'], registers,
    async collect() {
      this.reset();
      for (const ps of await deps.processServers.list()) {
        for (const [state, n] of Object.entries(await deps.queueCounts(ps.id))) this.set({ process_server: ps.id, state }, n);
      }
    },
  });
  new Gauge({
    name: 'pushinstalld_process_server_last_seen_seconds', help: 'Seconds since a process server\'s workers last reported.', labelNames: ['process_server'], registers,
    async collect() {
      this.reset();
      for (const ps of await deps.processServers.list()) this.set({ process_server: ps.id }, Math.max(0, (Date.now() - Date.parse(ps.lastSeen)) / 1000));
    },
  });
  registerProcessGauges(registry, deps);
  new Gauge({
    name: 'pushinstalld_repository_installers', help: 'Installers offered by this process\'s repository.', registers,
    collect() { this.set(deps.repository.installers().length); },
  });
  new Gauge({
    name: 'pushinstalld_repository_rejected_files', help: 'Files in this process\'s repository folder that are not used (see GET /api/v1/repository/installers).', registers,
    collect() { this.set(deps.repository.rejected().length); },
  });
}

/**
 * `GET /metrics` (any token; scrape with `authorization: Bearer`): the daemon's registry (process metrics,
 * job and task durations, outcomes, error codes, copy throughput, queue wait), the gauges above, and the
 * API's refused requests. Not encapsulated (fastify-plugin), so its hook sees every route's answer.
 */
export const metricsRoutes = fp<{ deps: ApiDeps }>(async (app, { deps }) => {
  const registry = deps.metrics;
  registerGauges(registry, deps);
  const authFailures = new Counter({
    name: 'pushinstalld_api_auth_failures_total', help: 'API requests refused: no token or an unknown one (401), or a role that may not (403).',
    labelNames: ['status'], registers: [registry],
  });
  app.addHook('onResponse', async (_req, reply) => {
    if (reply.statusCode === 401 || reply.statusCode === 403) authFailures.inc({ status: String(reply.statusCode) });
  });
  app.get('/metrics', { config: { roles: TOKEN_ROLES }, schema: { hide: true } }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()));
});
