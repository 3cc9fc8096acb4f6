import type { AccountInput } from '../../accounts/accounts.ts';
import type { ApiRoutes } from '../deps.ts';
import { accountCreateSchema, accountSchema, accountUpdateSchema, errorSchema, idParamsSchema } from '../schemas.ts';

const READ = ['admin', 'operator'] as const;
const WRITE = ['admin'] as const;

export const accountRoutes: ApiRoutes = async (app, { deps }) => {
  const base = '/api/v1/run-as-accounts';

  app.post<{ Body: AccountInput }>(base, {
    config: { roles: WRITE },
    schema: { tags: ['run-as accounts'], body: accountCreateSchema, response: { 201: accountSchema, 400: errorSchema } },
  }, async (req, reply) => reply.code(201).send(await deps.accounts.create(req.body)));

  app.get(base, {
    config: { roles: READ },
    schema: { tags: ['run-as accounts'], response: { 200: { type: 'object', properties: { accounts: { type: 'array', items: accountSchema } } } } },
  }, async () => ({ accounts: await deps.accounts.list() }));

  app.get<{ Params: { id: string } }>(`${base}/:id`, {
    config: { roles: READ },
    schema: { tags: ['run-as accounts'], params: idParamsSchema, response: { 200: accountSchema } },
  }, async (req) => deps.accounts.get(req.params.id));

  app.put<{ Params: { id: string }; Body: AccountInput }>(`${base}/:id`, {
    config: { roles: WRITE },
    schema: { tags: ['run-as accounts'], params: idParamsSchema, body: accountUpdateSchema, response: { 200: accountSchema } },
  }, async (req) => deps.accounts.update(req.params.id, req.body));

  app.delete<{ Params: { id: string } }>(`${base}/:id`, {
    config: { roles: WRITE },
    schema: { tags: ['run-as accounts'], params: idParamsSchema },
  }, async (req, reply) => {
    await deps.accounts.delete(req.params.id);
    return reply.code(204).send();
  });
};
