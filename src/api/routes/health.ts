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
    const ok = Object.values(checks).every((v) => v === 'ok');
    const missing = [...(deps.missingSettings ?? [])];
    // The API itself is ready without them; the detail says why pushes will fail (99016) until they are set.
    const settings = missing.length === 0
      ? { missing, detail: 'ok' }
      : { missing, detail: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: jobs that push an agent fail with 99016 until ${missing.length === 1 ? 'it is' : 'they are'} set` };
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks, settings });
  });
};
