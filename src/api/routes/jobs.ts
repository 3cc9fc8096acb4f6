import { toView } from '../../jobs/types.ts';
import type { ApiRoutes } from '../deps.ts';
import { TOKEN_ROLES } from '../tokens.ts';
import { submitted, type JobFilter, type JobPage } from '../views.ts';
import { errorSchema, idParamsSchema, jobListQuerySchema, jobSchema, submitResponseSchema } from '../schemas.ts';

export const jobRoutes: ApiRoutes = async (app, { deps }) => {
  app.get<{ Querystring: Omit<JobFilter, 'limit'> & { limit?: string } }>('/api/v1/jobs', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags: ['jobs'],
      querystring: jobListQuerySchema,
      response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: jobSchema }, nextCursor: { type: ['string', 'null'] } } } },
    },
  }, async (req) => {
    const { limit, cursor, ...filter } = req.query;
    const n = Math.min(Math.max(Number(limit ?? 100), 1), 1000);
    const page = await deps.jobs.list(filter, n, cursor);
    const view: JobPage = { jobs: page.jobs.map(toView), nextCursor: page.nextCursor };
    return view;
  });

  app.get<{ Params: { id: string } }>('/api/v1/jobs/:id', {
    config: { roles: TOKEN_ROLES },
    schema: { tags: ['jobs'], params: idParamsSchema, response: { 200: jobSchema, 404: errorSchema } },
  }, async (req) => toView(await deps.jobs.get(req.params.id)));

  app.get<{ Params: { id: string } }>('/api/v1/jobs/:id/log', {
    config: { roles: TOKEN_ROLES },
    schema: { tags: ['jobs'], params: idParamsSchema },
  }, async (req, reply) => {
    const lines = await deps.jobs.log(req.params.id);
    return reply.type('text/plain; charset=utf-8').send(lines.join('\n') + (lines.length ? '\n' : ''));
  });

  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/cancel', {
    config: { roles: TOKEN_ROLES },
    schema: { tags: ['jobs'], params: idParamsSchema, response: { 202: jobSchema, 404: errorSchema, 409: errorSchema } },
  }, async (req, reply) => reply.code(202).send(toView(await deps.jobs.cancel(req.params.id))));

  app.post<{ Params: { id: string } }>('/api/v1/jobs/:id/restart', {
    config: { roles: TOKEN_ROLES },
    schema: { tags: ['jobs'], params: idParamsSchema, response: { 200: submitResponseSchema, 202: submitResponseSchema, 404: errorSchema, 409: errorSchema } },
  }, async (req, reply) => {
    const r = await deps.jobs.restart(req.params.id);
    return reply.code(r.created ? 202 : 200).send({ jobs: [submitted(r)] });
  });
};
