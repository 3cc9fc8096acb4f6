import type { FastifyPluginAsync } from 'fastify';
import type { InstallerRepository } from '../../repository/repository.ts';
import type { ApiDeps } from '../app.ts';

/** What the API reads of the installer repository. */
export type RepositoryView = Pick<InstallerRepository, 'installers' | 'rejected' | 'osSupport' | 'rescan' | 'readable' | 'eligible' | 'select'> & { dir?: string };

const READ = ['admin', 'operator', 'portal'] as const;

const installerSchema = {
  type: 'object',
  properties: {
    file: { type: 'string' }, osTag: { type: 'string' }, platform: { type: 'string' }, version: { type: 'string' },
    releaseDate: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' },
    // Whether it may be pushed from this process server: not newer than CS_VERSION (nor PROCESS_SERVER_VERSION).
    eligible: { type: 'boolean' },
  },
};

export const repositoryRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const view = () => ({
    installers: deps.repository.installers().map(({ file, osTag, platform, version, releaseDate, size, sha256 }) => ({
      file, osTag, platform, version, releaseDate, size, sha256, eligible: deps.repository.eligible(version),
    })),
    rejected: deps.repository.rejected(),
  });
  const listSchema = {
    type: 'object',
    properties: {
      installers: { type: 'array', items: installerSchema },
      rejected: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, reason: { type: 'string' } } } },
    },
  };

  app.get('/api/v1/repository/installers', { config: { roles: READ }, schema: { tags: ['repository'], response: { 200: listSchema } } }, async () => view());

  app.get('/api/v1/repository/os-support', {
    config: { roles: READ },
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
                  extensions: {
                    type: 'array',
                    items: { type: 'object', properties: { os: { type: 'string' }, windowsVersion: { type: 'string' }, minAgentVersion: { type: 'string' } } },
                  },
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
