import type { ApiRoutes } from '../deps.ts';
import { ref } from '../openapi.ts';
import { readiness } from '../readiness.ts';

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
    const { ok, body } = await readiness(deps);
    return reply.code(ok ? 200 : 503).send(body);
  });
};
