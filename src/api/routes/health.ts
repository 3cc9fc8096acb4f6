import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../app.ts';

export const healthRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await deps.redis.ping();
      checks.redis = 'ok';
    } catch (e) {
      checks.redis = `unreachable: ${(e as Error).message}`;
    }
    checks.repository = (await deps.repository.readable()) ? 'ok' : 'unreadable';
    const agreement = deps.keyAgreement?.current();
    if (agreement) checks.vaultKey = agreement.agreed ? 'ok' : `mismatch: ${agreement.reason}`;
    const ok = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });
};
