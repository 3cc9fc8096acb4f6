import type { FastifyRequest } from 'fastify';
import { toView } from '../../jobs/types.ts';
import type { ApiRoutes } from '../deps.ts';
import { errorResponse, mediaResponse, ref } from '../openapi.ts';
import { TOKEN_ROLES } from '../tokens.ts';
import { submitted, type JobFilter, type JobPage } from '../views.ts';
import { idParamsSchema, jobListQuerySchema } from '../schemas.ts';

const tags = ['jobs'];

/** Query strings are text and the API's ajv does not coerce (a body's "22" is no port): `limit` is turned into the integer it spells. */
async function limitAsInteger(req: FastifyRequest): Promise<void> {
  const query = req.query as Record<string, unknown>;
  if (typeof query.limit === 'string' && /^[0-9]{1,4}$/.test(query.limit)) query.limit = Number(query.limit);
}

export const jobRoutes: ApiRoutes = async (app, { deps }) => {
  app.get<{ Querystring: JobFilter }>('/api/v1/jobs', {
    config: { roles: TOKEN_ROLES },
    preValidation: limitAsInteger,
    schema: {
      tags, operationId: 'listJobs', summary: 'List jobs, newest first, with filters and paging',
      querystring: jobListQuerySchema, response: { 200: { description: 'One page of jobs.', ...ref('JobPage') } },
    },
  }, async (req) => {
    const { limit, cursor, ...filter } = req.query;
    const n = Math.min(Math.max(limit ?? 100, 1), 1000);
    const page = await deps.jobs.list(filter, n, cursor);
    const view: JobPage = { jobs: page.jobs.map(toView), nextCursor: page.nextCursor };
    return view;
  });

  app.get<{ Params: { id: string } }>('/api/v1/jobs/:id', {
    config: { roles: TOKEN_ROLES },
    schema: { tags, operationId: 'getJob', summary: 'Read a job: state, tasks, errors and allowed actions', params: idParamsSchema, response: { 200: { description: 'The job.', ...ref('Job') } } },
  }, async (req) => toView(await deps.jobs.get(req.params.id)));

  app.get<{ Params: { id: string } }>('/api/v1/jobs/:id/log', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags, operationId: 'getJobLog', summary: "Read a job's log (redacted), one line per entry", params: idParamsSchema,
      response: { 200: mediaResponse('The log lines.', 'text/plain', { type: 'string' }) },
    },
  }, async (req, reply) => {
    const lines = await deps.jobs.log(req.params.id);
    return reply.type('text/plain; charset=utf-8').send(lines.join('\n') + (lines.length ? '\n' : ''));
  });

  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/cancel', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags, operationId: 'cancelJob', summary: 'Cancel a job that has not ended', params: idParamsSchema,
      response: { 202: { description: 'Cancelled, or cancel requested (a running job stops at its next step).', ...ref('Job') }, 409: errorResponse('The job has ended.') },
    },
  }, async (req, reply) => reply.code(202).send(toView(await deps.jobs.cancel(req.params.id))));

  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/restart', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags, operationId: 'restartJob', summary: 'Submit a new job for the machine and type of an ended job', params: idParamsSchema,
      response: {
        200: { description: 'The machine already has an active job of that type: that job.', ...ref('SubmitResponse') },
        202: { description: 'The new job.', ...ref('SubmitResponse') },
        409: errorResponse('The job has not ended (cancel it first).'),
      },
    },
  }, async (req, reply) => {
    const r = await deps.jobs.restart(req.params.id);
    return reply.code(r.created ? 202 : 200).send({ jobs: [submitted(r)] });
  });
};
