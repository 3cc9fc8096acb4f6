import type { AccountInput } from '../../accounts/accounts.ts';
import type { ApiRoutes } from '../deps.ts';
import { errorResponse, noContent, ref } from '../openapi.ts';
import { accountCreateSchema, accountUpdateSchema, idParamsSchema } from '../schemas.ts';

const READ = ['admin', 'operator'] as const;
const WRITE = ['admin'] as const;
const tags = ['accounts'];

export const accountRoutes: ApiRoutes = async (app, { deps }) => {
  const base = '/api/v1/run-as-accounts';

  app.post<{ Body: AccountInput }>(base, {
    config: { roles: WRITE },
    schema: {
      tags, operationId: 'createAccount', summary: 'Create a run-as account',
      description: 'A password or a private key is required (Linux); Windows accept DOMAIN\\user, user@domain or .\\user. Secrets are stored encrypted and never returned.',
      body: accountCreateSchema, response: { 201: { description: 'Created.', ...ref('Account') } },
    },
  }, async (req, reply) => reply.code(201).send(await deps.accounts.create(req.body)));

  app.get(base, {
    config: { roles: READ },
    schema: { tags, operationId: 'listAccounts', summary: 'List run-as accounts', response: { 200: { description: 'Every account.', ...ref('AccountList') } } },
  }, async () => ({ accounts: await deps.accounts.list() }));

  app.get<{ Params: { id: string } }>(`${base}/:id`, {
    config: { roles: READ },
    schema: { tags, operationId: 'getAccount', summary: 'Read a run-as account', params: idParamsSchema, response: { 200: { description: 'The account.', ...ref('Account') } } },
  }, async (req) => deps.accounts.get(req.params.id));

  app.put<{ Params: { id: string }; Body: AccountInput }>(`${base}/:id`, {
    config: { roles: WRITE },
    schema: {
      tags, operationId: 'updateAccount', summary: 'Update a run-as account (e.g. rotate its password)',
      params: idParamsSchema, body: accountUpdateSchema, response: { 200: { description: 'The updated account.', ...ref('Account') } },
    },
  }, async (req) => deps.accounts.update(req.params.id, req.body));

  app.delete<{ Params: { id: string } }>(`${base}/:id`, {
    config: { roles: WRITE },
    schema: {
      tags, operationId: 'deleteAccount', summary: 'Delete a run-as account', params: idParamsSchema,
      response: { 204: noContent('Deleted.'), 409: errorResponse('A queued or running job uses the account.') },
    },
  }, async (req, reply) => {
    await deps.accounts.delete(req.params.id);
    return reply.code(204).send();
  });
};
