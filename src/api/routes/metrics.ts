import type { FastifyPluginAsync } from 'fastify';
import { JOB_STATES } from '../../domain/job.ts';
import { ALL_ROLES, type ApiDeps } from '../app.ts';

function line(name: string, labels: Record<string, string>, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',');
  return `${name}${l ? `{${l}}` : ''} ${value}`;
}

/** Prometheus metrics (any token; scrape with `authorization: Bearer`): job records by state, queue depth per process server, repository and process servers. */
export const metricsRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/metrics', { config: { roles: ALL_ROLES }, schema: { hide: true } }, async (_req, reply) => {
    const out: string[] = [];
    out.push('# HELP pushinstalld_jobs Job records by state.', '# TYPE pushinstalld_jobs gauge');
    const counts = await deps.jobs.countsByState();
    for (const state of JOB_STATES) out.push(line('pushinstalld_jobs', { state }, counts[state] ?? 0));
    const servers = await deps.processServers.list();
    out.push('# HELP pushinstalld_queue_jobs BullMQ jobs per process server queue and state.', '# TYPE pushinstalld_queue_jobs gauge');
    for (const ps of servers) {
      const c = await deps.queueCounts(ps.id);
      for (const [state, n] of Object.entries(c)) out.push(line('pushinstalld_queue_jobs', { process_server: ps.id, state }, n));
    }
    out.push('# HELP pushinstalld_process_server_last_seen_seconds Seconds since a process server\'s workers last reported.', '# TYPE pushinstalld_process_server_last_seen_seconds gauge');
    for (const ps of servers) out.push(line('pushinstalld_process_server_last_seen_seconds', { process_server: ps.id }, Math.max(0, (Date.now() - Date.parse(ps.lastSeen)) / 1000)));
    out.push('# HELP pushinstalld_repository_installers Installers offered by this process\'s repository.', '# TYPE pushinstalld_repository_installers gauge');
    out.push(line('pushinstalld_repository_installers', {}, deps.repository.installers().length));
    out.push(line('pushinstalld_repository_rejected_files', {}, deps.repository.rejected().length));
    out.push(...keyAgreementMetric(deps));
    return reply.type('text/plain; version=0.0.4').send(out.join('\n') + '\n');
  });
};

/** Vault key agreement of this process (1: holds the cluster's active key; 0: takes no job until its key file does). */
function keyAgreementMetric(deps: ApiDeps): string[] {
  const agreement = deps.keyAgreement?.current();
  if (!agreement) return [];
  return [
    '# HELP pushinstalld_vault_key_agreement 1 when this process holds the cluster\'s active vault key, 0 when it does not (it takes no job).',
    '# TYPE pushinstalld_vault_key_agreement gauge',
    line('pushinstalld_vault_key_agreement', {}, agreement.agreed ? 1 : 0),
  ];
}
