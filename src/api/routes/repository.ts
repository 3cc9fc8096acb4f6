import type { ApiRoutes } from '../deps.ts';
import { TOKEN_ROLES } from '../tokens.ts';
import type { RepositoryListing } from '../views.ts';
import { ref } from '../openapi.ts';

const tags = ['repository'];

export const repositoryRoutes: ApiRoutes = async (app, { deps }) => {
  const view = (): RepositoryListing => ({
    installers: deps.repository.installers().map(({ file, osTag, platform, version, releaseDate, size, sha256 }) => ({
      file, osTag, platform, version, releaseDate, size, sha256, eligible: deps.repository.eligible(version),
    })),
    rejected: deps.repository.rejected(),
  });
  const listing = (description: string) => ({ 200: { description, ...ref('InstallerListing') } });

  app.get('/api/v1/repository/installers', {
    config: { roles: TOKEN_ROLES, noStore: true },
    schema: { tags, operationId: 'listInstallers', summary: 'List the installers offered, and the files refused with why', response: listing('The repository.') },
  }, async () => view());

  app.get('/api/v1/repository/os-support', {
    config: { roles: TOKEN_ROLES, noStore: true },
    schema: {
      tags, operationId: 'getOsSupport', summary: 'Per OS tag: the OS names it covers, manual placement, and the versions present',
      response: { 200: { description: 'Every OS tag.', ...ref('OsSupport') } },
    },
  }, async () => ({ osSupport: deps.repository.osSupport() }));

  app.post('/api/v1/repository/rescan', {
    config: { roles: ['admin', 'operator'], noStore: true },
    schema: { tags, operationId: 'rescanRepository', summary: 'Rescan the repository folder now (it is also watched)', response: listing('The repository after the scan.') },
  }, async () => {
    await deps.repository.rescan();
    return view();
  });
};
