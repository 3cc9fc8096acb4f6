import type { FastifyPluginAsync } from 'fastify';
import { PIN_KINDS, type HostKeyStore, type PinKind } from '../../accounts/host-keys.ts';
import { NotFoundError, ValidationError } from '../../errors/validation-error.ts';
import { noContent, ref } from '../openapi.ts';

interface PinBody { address: string; port?: number; fingerprint: string; keyType?: string; kind?: PinKind }

const pinBodySchema = {
  type: 'object', additionalProperties: false, required: ['address', 'fingerprint'],
  properties: {
    address: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:%-]+$' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'default 22 (ssh) or 5986 (tls)' },
    fingerprint: { type: 'string', minLength: 1, maxLength: 128 },
    keyType: { type: 'string', maxLength: 64, pattern: '^[a-z0-9@.-]+$', description: 'ssh only' },
    kind: { type: 'string', enum: [...PIN_KINDS], description: 'default ssh' },
  },
} as const;

function splitHost(host: string): { address: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(host);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ValidationError('host', 'must be address:port, e.g. 10.0.0.5:22');
  return { address: m[1] as string, port: Number(m[2]) };
}

/** Guest trust: list the pins of both kinds, pre-seed a fingerprint, forget the pins of an address:port. */
export const hostKeyRoutes: FastifyPluginAsync<{ deps: { hostKeys: HostKeyStore } }> = async (app, { deps }) => {
  app.get('/api/v1/host-keys', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags: ['host keys'], operationId: 'listHostKeys', summary: 'List pinned SSH host keys and WinRM certificates',
      response: { 200: { description: 'Every pin.', ...ref('HostPinList') } },
    },
  }, async () => ({ hostKeys: await deps.hostKeys.list() }));

  app.post<{ Body: PinBody }>('/api/v1/host-keys', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['host keys'], operationId: 'pinHostKey', summary: 'Pre-seed (or replace) the pinned SSH host key or WinRM certificate of an address:port',
      body: pinBodySchema, response: { 201: { description: 'The pin.', ...ref('HostPin') } },
    },
  }, async (req, reply) => {
    const { kind = 'ssh', address, port, fingerprint, keyType } = req.body;
    const pin = await deps.hostKeys.pin({ kind, address, fingerprint, keyType: keyType ?? null, ...(port !== undefined ? { port } : {}) });
    return reply.code(201).send(pin);
  });

  app.delete<{ Params: { host: string } }>('/api/v1/host-keys/:host', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['host keys'], operationId: 'forgetHostKey', summary: 'Forget the pins (both kinds) of an address:port; the next tofu connection pins again',
      params: { type: 'object', required: ['host'], properties: { host: { type: 'string', maxLength: 260, description: 'address:port' } } },
      response: { 204: noContent('Forgotten.') },
    },
  }, async (req, reply) => {
    const { address, port } = splitHost(req.params.host);
    if (!(await deps.hostKeys.forget(address, port))) throw new NotFoundError('host key pin', req.params.host);
    return reply.code(204).send();
  });
};
