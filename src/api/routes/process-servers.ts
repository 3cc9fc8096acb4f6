import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../errors/validation-error.ts';
import type { ProcessServerAdmin, ProcessServerView } from '../../jobs/process-server-admin.ts';

const keyAgreementSchema = { type: 'string', enum: ['agreed', 'mismatch', 'unknown'] } as const;

const installerSchema = {
  type: 'object', required: ['file', 'osTag', 'version'],
  properties: { file: { type: 'string' }, osTag: { type: 'string' }, version: { type: 'string' } },
} as const;

const workerSchema = {
  type: 'object',
  required: ['instance', 'host', 'pid', 'concurrency', 'heartbeatAgeSec', 'live', 'keyAgreement', 'version'],
  properties: {
    instance: { type: 'string' }, host: { type: 'string' }, pid: { type: 'integer' }, concurrency: { type: 'integer' },
    heartbeatAgeSec: { type: 'number' }, live: { type: 'boolean', description: 'a heartbeat within the last 30 s' },
    keyAgreement: keyAgreementSchema, version: { type: ['string', 'null'] },
  },
} as const;

export const processServerSchema = {
  type: 'object',
  required: ['id', 'drained', 'heartbeatAgeSec', 'concurrency', 'queue', 'installers', 'keyAgreement', 'version', 'workers'],
  properties: {
    id: { type: 'string' },
    drained: { type: 'boolean', description: 'its workers take no new job (running ones finish, queued ones wait) until resumed' },
    heartbeatAgeSec: { type: 'number' },
    concurrency: { type: 'integer', description: 'jobs its live workers run at once, together' },
    queue: { type: 'object', additionalProperties: { type: 'integer' }, description: 'queue entries by BullMQ state' },
    installers: { type: 'array', items: installerSchema },
    keyAgreement: { ...keyAgreementSchema, description: 'mismatch: a live worker lacks the cluster\'s vault key and takes no job' },
    version: { type: ['string', 'null'], description: 'CS_VERSION of its workers, when set' },
    workers: { type: 'array', items: workerSchema },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

function found(view: ProcessServerView | null, id: string): ProcessServerView {
  if (!view) throw new NotFoundError('process server', id);
  return view;
}

/** Process servers as things an operator manages: list them (operator), drain and resume one (admin). */
export const processServerRoutes: FastifyPluginAsync<{ deps: { processServerAdmin: ProcessServerAdmin } }> = async (app, { deps }) => {
  const admin = deps.processServerAdmin;
  app.get('/api/v1/process-servers', {
    config: { roles: ['admin', 'operator'] },
    schema: {
      tags: ['process servers'], operationId: 'listProcessServers', summary: 'List process servers: workers, queue depth, installers offered, key agreement, drain state',
      response: { 200: { description: 'Every process server whose workers have reported.', type: 'object', required: ['processServers'], properties: { processServers: { type: 'array', items: processServerSchema } } } },
    },
  }, async () => ({ processServers: await admin.list() }));

  for (const [action, summary] of [
    ['drain', 'Drain a process server: its workers take no new job; running jobs finish, queued ones wait (idempotent)'],
    ['resume', 'Resume a drained process server: its workers take jobs again (idempotent)'],
  ] as const) {
    app.post<{ Params: { id: string } }>(`/api/v1/process-servers/:id/${action}`, {
      config: { roles: ['admin'] },
      schema: {
        tags: ['process servers'], operationId: `${action}ProcessServer`, summary, params: idParams,
        response: { 200: { description: 'The process server after the change.', ...processServerSchema } },
      },
    }, async (req) => found(await admin[action](req.params.id), req.params.id));
  }
};
