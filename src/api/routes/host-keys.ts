import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, ValidationError } from '../../errors/validation-error.ts';
import type { ApiDeps } from '../deps.ts';

const pinSchema = {
  type: 'object',
  properties: {
    host: { type: 'string' }, fingerprint: { type: 'string' }, keyType: { type: ['string', 'null'] }, source: { type: 'string' },
    pinnedAt: { type: 'string' }, lastSeenAt: { type: ['string', 'null'] },
  },
};

function splitHost(host: string): { address: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(host);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ValidationError('host', 'must be address:port, e.g. 10.0.0.5:22');
  return { address: m[1] as string, port: Number(m[2]) };
}

/** SSH host trust: list pins, pre-seed a fingerprint, forget a pin. */
export const hostKeyRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/api/v1/host-keys', {
    config: { roles: ['admin', 'operator'] },
    schema: { tags: ['host keys'], response: { 200: { type: 'object', properties: { hostKeys: { type: 'array', items: pinSchema } } } } },
  }, async () => ({ hostKeys: await deps.hostKeys.list() }));

  app.post<{ Body: { address: string; port?: number; fingerprint: string; keyType?: string } }>('/api/v1/host-keys', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['host keys'],
      body: {
        type: 'object', additionalProperties: false, required: ['address', 'fingerprint'],
        properties: {
          address: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:%-]+$' },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          fingerprint: { type: 'string', minLength: 1, maxLength: 128 },
          keyType: { type: 'string', maxLength: 64, pattern: '^[a-z0-9@.-]+$' },
        },
      },
      response: { 201: pinSchema },
    },
  }, async (req, reply) => reply.code(201).send(await deps.hostKeys.pin(req.body.address, req.body.port ?? 22, req.body.fingerprint, req.body.keyType ?? null)));

  app.delete<{ Params: { host: string } }>('/api/v1/host-keys/:host', {
    config: { roles: ['admin'] },
    schema: { tags: ['host keys'], params: { type: 'object', required: ['host'], properties: { host: { type: 'string', maxLength: 260 } } } },
  }, async (req, reply) => {
    const { address, port } = splitHost(req.params.host);
    if (!(await deps.hostKeys.forget(address, port))) throw new NotFoundError('host key pin', req.params.host);
    return reply.code(204).send();
  });
};
