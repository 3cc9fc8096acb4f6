import type { ApiRoutes } from '../deps.ts';
import { TOKEN_ROLES } from '../tokens.ts';
import type { RepositoryListing } from '../views.ts';

const installerSchema = {
  type: 'object',
  properties: {
    file: { type: 'string' }, osTag: { type: 'string' }, platform: { type: 'string' }, version: { type: 'string' },
    releaseDate: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' },
  },
};

export const repositoryRoutes: ApiRoutes = async (app, { deps }) => {
  const view = (): RepositoryListing => ({
    installers: deps.repository.installers().map(({ file, osTag, platform, version, releaseDate, size, sha256 }) => ({ file, osTag, platform, version, releaseDate, size, sha256 })),
    rejected: deps.repository.rejected(),
  });
  const listSchema = {
    type: 'object',
    properties: {
      installers: { type: 'array', items: installerSchema },
      rejected: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, reason: { type: 'string' } } } },
    },
  };

  app.get('/api/v1/repository/installers', { config: { roles: TOKEN_ROLES }, schema: { tags: ['repository'], response: { 200: listSchema } } }, async () => view());

  app.get('/api/v1/repository/os-support', {
    config: { roles: TOKEN_ROLES },
    schema: {
      tags: ['repository'],
      response: {
        200: {
          type: 'object',
          properties: {
            osSupport: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  tag: { type: 'string' }, platform: { type: 'string' }, osNames: { type: 'array', items: { type: 'string' } },
                  manualPlacement: { type: 'boolean' }, present: { type: 'boolean' }, latestVersion: { type: 'string' },
                  selectableVersion: { type: 'string' }, versions: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  }, async () => ({ osSupport: deps.repository.osSupport() }));

  app.post('/api/v1/repository/rescan', { config: { roles: ['admin', 'operator'] }, schema: { tags: ['repository'], response: { 200: listSchema } } }, async () => {
    await deps.repository.rescan();
    return view();
  });
};
