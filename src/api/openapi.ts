// The OpenAPI document in one place: the named components, the document's header, and the statuses
// every route answers because of how it is declared (its roles, its body, its params), added to the
// route's schema when it is registered so a new route cannot forget them.
import swagger from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import pkg from '../../package.json' with { type: 'json' };
import { COMPONENTS, componentSchemas, ref } from './components.ts';
import { TOKEN_ROLES } from './tokens.ts';

export { ref };

/** An error response of the `Error` shape. */
export const errorResponse = (description: string) => ({ description, ...ref('Error') });

/** A 204: no body. */
export const noContent = (description: string) => ({ description, type: 'null' });

/** A response with another media type than JSON (`text/plain`, `text/event-stream`). */
export const mediaResponse = (description: string, mediaType: string, schema: object) => ({ description, content: { [mediaType]: { schema } } });

const TAGS = [
  { name: 'submit', description: 'Submit push jobs: one job per machine (role portal or admin).' },
  { name: 'jobs', description: 'Read, follow (Server-Sent Events), cancel and restart jobs.' },
  { name: 'accounts', description: 'Run-as accounts the daemon signs in to guests with (secrets are never returned).' },
  { name: 'repository', description: 'The installer repository of this process server.' },
  { name: 'host keys', description: 'Pinned SSH host keys and WinRM certificates.' },
  { name: 'process servers', description: 'The process servers (queues and their workers).' },
  { name: 'health', description: 'Liveness and readiness, without a token.' },
];

type ResponseMap = Record<string, unknown>;

/**
 * The statuses a route answers because of its declaration: 401 (and 403 when some role is refused)
 * from the token check, 503 when Redis is down (token routes that do not opt out with
 * `config.noStore`), 400 for anything validated, 404 for an unknown `:param`, 413/415 for a body.
 */
export function standardResponses(route: Pick<RouteOptions, 'schema' | 'config' | 'method'>): ResponseMap {
  const schema = (route.schema ?? {}) as { body?: unknown; params?: unknown; querystring?: unknown };
  const roles = route.config?.roles;
  const out: ResponseMap = {};
  if (schema.body || schema.params || schema.querystring) out[400] = errorResponse('The request is invalid: `field` names the offending input.');
  if (roles) {
    out[401] = errorResponse('No bearer token, or an unknown one.');
    if (roles.length < TOKEN_ROLES.length) out[403] = errorResponse(`The token's role may not call this (allowed: ${roles.join(', ')}).`);
  }
  if (schema.params) out[404] = errorResponse('No such resource.');
  if (schema.body) {
    out[413] = errorResponse('The body is larger than 4 MiB.');
    out[415] = errorResponse('The body is not application/json.');
  }
  if (roles && !route.config?.noStore) out[503] = errorResponse('The job store (Redis) is unreachable; retry after Retry-After seconds.');
  return out;
}

function documentRoute(route: RouteOptions): void {
  const schema = route.schema ?? {};
  if (schema.hide) return;
  route.schema = {
    ...schema,
    ...(route.config?.roles ? {} : { security: [] }),
    response: { ...standardResponses(route), ...(schema.response as ResponseMap | undefined) },
  };
}

/** Registers the components, the route hook and @fastify/swagger (call before any route). */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of componentSchemas()) app.addSchema(schema);
  app.addHook('onRoute', documentRoute);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'pushinstalld', version: pkg.version,
        description: 'Push installation of the Azure Site Recovery Mobility Service agent over SSH/SFTP and SMB/WinRM. '
          + 'Every error answers with the `Error` shape; tokens are sent as `Authorization: Bearer <token>`.',
      },
      tags: TAGS,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Named components keep their `$id` as their name (`#/components/schemas/Job`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
}

export const COMPONENT_NAMES = Object.keys(COMPONENTS);
