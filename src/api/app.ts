import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { bearerAuth } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import { errorHandler } from './errors.ts';
import { parseJsonBodies } from './json-body.ts';
import { registerOpenApi } from './openapi.ts';
import { accountRoutes } from './routes/accounts.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { hostKeyRoutes } from './routes/host-keys.ts';
import { jobRoutes } from './routes/jobs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { processServerRoutes } from './routes/process-servers.ts';
import { repositoryFileRoutes } from './routes/repository-files.ts';
import { repositoryRoutes } from './routes/repository.ts';
import { submitRoutes } from './routes/submit.ts';
import { uiRoutes } from './ui.ts';

const ROUTES = [healthRoutes, metricsRoutes, accountRoutes, submitRoutes, jobRoutes, eventRoutes, repositoryRoutes, repositoryFileRoutes, hostKeyRoutes, processServerRoutes];

/** The API as a fastify instance that is not listening yet (tests call `inject`, main calls `listen`). */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, useDefaults: true } },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
  parseJsonBodies(app);
  app.addHook('onRequest', bearerAuth(deps.tokens));

  await registerOpenApi(app);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  for (const routes of ROUTES) await app.register(routes, { deps });
  await app.register(uiRoutes);
  return app;
}
