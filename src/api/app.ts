import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { AccountStore } from '../accounts/accounts.ts';
import type { HostKeyStore } from '../accounts/host-keys.ts';
import type { JobService } from '../jobs/service.ts';
import type { ProcessServerRegistry } from '../jobs/process-servers.ts';
import type { ProcessServerAdmin } from '../jobs/process-server-admin.ts';
import type { KeyAgreementView } from '../accounts/key-agreement.ts';
import type { Logger } from '../logging/logger.ts';
import { errorHandler } from './errors.ts';
import { accountRoutes } from './routes/accounts.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { hostKeyRoutes } from './routes/host-keys.ts';
import { jobRoutes } from './routes/jobs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { processServerRoutes } from './routes/process-servers.ts';
import { repositoryRoutes, type RepositoryView } from './routes/repository.ts';
import { submitRoutes } from './routes/submit.ts';
import type { TokenRole, TokenStore } from './tokens.ts';

export interface ApiDeps {
  redis: Redis;
  logger: Logger;
  tokens: TokenStore;
  accounts: AccountStore;
  jobs: JobService;
  hostKeys: HostKeyStore;
  processServers: ProcessServerRegistry;
  /** Process servers as an operator manages them (list, drain, resume). */
  processServerAdmin: ProcessServerAdmin;
  /** This process's vault key agreement (/readyz and /metrics report it). */
  keyAgreement?: KeyAgreementView;
  repository: RepositoryView;
  /** BullMQ job counts of a process server's queue (waiting, active, delayed, ...). */
  queueCounts: (processServerId: string) => Promise<Record<string, number>>;
  /** A fresh connection for a blocking reader (one per SSE stream). */
  blockingRedis: () => Redis;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent: no token needed. */
    roles?: readonly TokenRole[];
  }
  interface FastifyRequest {
    tokenName?: string;
    tokenRole?: TokenRole;
  }
}

export const ALL_ROLES: readonly TokenRole[] = ['admin', 'portal', 'operator'];

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

  app.addHook('onRequest', async (req, reply) => {
    const roles = req.routeOptions.config.roles;
    if (!roles) return;
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, error: 'Unauthorized', message: 'missing bearer token (Authorization: Bearer <token>)' });
    }
    const entry = deps.tokens.lookup(m[1] as string);
    if (!entry) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ statusCode: 401, error: 'Unauthorized', message: 'unknown token' });
    req.tokenName = entry.name;
    req.tokenRole = entry.role;
    if (!roles.includes(entry.role)) {
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `role ${entry.role} may not ${req.method} ${req.routeOptions.url}` });
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'pushinstalld', version: '1', description: 'Push installation of the Mobility Service agent (see README).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(accountRoutes, { deps });
  await app.register(submitRoutes, { deps });
  await app.register(jobRoutes, { deps });
  await app.register(eventRoutes, { deps });
  await app.register(repositoryRoutes, { deps });
  await app.register(hostKeyRoutes, { deps });
  await app.register(processServerRoutes, { deps });
  return app;
}
