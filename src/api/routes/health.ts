import type { ApiRoutes } from '../deps.ts';
import { ref } from '../openapi.ts';
import type { Readiness } from '../views.ts';

export const healthRoutes: ApiRoutes = async (app, { deps }) => {
  app.get('/healthz', {
    schema: {
      tags: ['health'], operationId: 'getHealth', summary: 'Liveness: the process is up',
      response: { 200: { description: 'The process is up.', ...ref('Health') } },
    },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: {
      tags: ['health'], operationId: 'getReadiness', summary: 'Readiness: Redis reachable and the repository readable',
      description: 'Answers 503 with the same body when a check fails; `checks` says which.',
      response: { 200: { description: 'Ready.', ...ref('Readiness') }, 503: { description: 'Not ready: a check failed.', ...ref('Readiness') } },
    },
  }, async (_req, reply) => {
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
    const missing = [...(deps.missingSettings ?? [])];
    // The API itself is ready without them; the detail says why pushes will fail (99016) until they are set.
    const settings = missing.length === 0
      ? { missing, detail: 'ok' }
      : { missing, detail: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: jobs that push an agent fail with 99016 until ${missing.length === 1 ? 'it is' : 'they are'} set` };
    const body: Readiness = { status: ok ? 'ready' : 'not ready', checks, settings };
    return reply.code(ok ? 200 : 503).send(body);
  });
};
