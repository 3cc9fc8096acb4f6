// Manual installs from the repository: an offered installer's bytes (with its SHA-256 as the ETag and
// byte ranges) and the documented command lines for an OS. Only files the repository offers are served,
// looked up by exact name, so no request names a path (../, %2f, a rejected or still-copying file: 404).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { mediaResponse, noContent } from '../openapi.ts';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { PushError } from '../../errors/push-error.ts';
import { Codes } from '../../errors/catalogue.ts';
import { manualInstallLines } from '../../pipeline/manual-install.ts';
import { resolveOsName } from '../../repository/os-mapping.ts';
import { osTagInfo } from '../../repository/os-tags.ts';
import type { InstallerRepository } from '../../repository/repository.ts';
import type { InstallerInfo } from '../../repository/snapshot.ts';

/** What these routes read (not ApiDeps: app.ts registers them, and a route importing app.ts is a cycle). */
export interface RepositoryFileDeps {
  repository: Pick<InstallerRepository, 'installers' | 'rescan' | 'select'>;
  /** Filled into the manual lines (unset: a placeholder). */
  csEndpoint?: string | undefined;
}

const ROLES = ['admin', 'operator'] as const;

type Range = { start: number; end: number } | 'unsatisfiable' | undefined;

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; anything else is served whole (RFC 9110 allows ignoring it). */
export function parseRange(header: string | undefined, size: number): Range {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || end < start ? 'unsatisfiable' : { start, end };
}

function notOffered(reply: FastifyReply, file: string): FastifyReply {
  return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `${JSON.stringify(file)} is not an installer the repository offers (GET /api/v1/repository/installers lists them)` });
}

/** The tag a manual-install query names (osTag, or osName resolved as a push would). */
function queryTag(q: { osTag?: string; osName?: string }): { tag: string } | { error: string } {
  if ((q.osTag === undefined) === (q.osName === undefined)) return { error: 'give exactly one of osTag and osName' };
  if (q.osTag !== undefined) return osTagInfo(q.osTag) ? { tag: osTagInfo(q.osTag)?.tag as string } : { error: `"${q.osTag}" is not a known OS tag` };
  const name = q.osName as string;
  const res = resolveOsName(/\bwindows\b/i.test(name) ? 'windows' : 'linux', name);
  return res.ok ? { tag: res.tag } : { error: res.reason };
}

const DOWNLOAD_SCHEMA = {
  tags: ['repository'], operationId: 'downloadInstaller', summary: 'The bytes of an offered installer (for a manual install): ETag = SHA-256, Range supported',
  params: { type: 'object', required: ['file'], properties: { file: { type: 'string', minLength: 1, maxLength: 255 } } },
  response: {
    200: mediaResponse('The whole file.', 'application/octet-stream', { type: 'string', format: 'binary' }),
    206: mediaResponse('The requested range.', 'application/octet-stream', { type: 'string', format: 'binary' }),
    304: noContent('Not modified (If-None-Match matched the ETag).'),
    416: noContent('The range is outside the file.'),
  },
};

export const repositoryFileRoutes: FastifyPluginAsync<{ deps: RepositoryFileDeps }> = async (app, { deps }) => {
  app.get<{ Params: { file: string } }>('/api/v1/repository/installers/:file/content', {
    config: { roles: ROLES },
    schema: DOWNLOAD_SCHEMA,
  }, async (req, reply) => {
    const { file } = req.params;
    const installer = deps.repository.installers().find((i) => i.file === file);
    if (!installer) return notOffered(reply, file);
    // The bytes must still be the ones hashed: a file changed since the scan is not offered until rescanned.
    const now = await stat(installer.path).catch(() => null);
    if (!now || now.size !== installer.size || now.mtimeMs !== installer.mtimeMs) {
      void deps.repository.rescan();
      return notOffered(reply, file);
    }
    const etag = `"${installer.sha256}"`;
    void reply.header('etag', etag).header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${installer.file}"`);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    const range = parseRange(req.headers.range, installer.size);
    if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${installer.size}`).send();
    if (range) {
      void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${installer.size}`).header('content-length', range.end - range.start + 1);
      return reply.send(createReadStream(installer.path, range));
    }
    void reply.header('content-length', installer.size);
    return reply.send(createReadStream(installer.path));
  });

  app.get<{ Querystring: { osTag?: string; osName?: string } }>('/api/v1/repository/manual-install', {
    config: { roles: ROLES },
    schema: {
      tags: ['repository'], operationId: 'getManualInstall', summary: 'The installer to use for an OS and the documented manual install command lines',
      response: {
        200: mediaResponse('The installer and the command lines.', 'application/json', { type: 'object', additionalProperties: true }),
        404: mediaResponse('No installer for that OS in this repository (the file pattern to place).', 'application/json', { type: 'object', additionalProperties: true }),
        409: mediaResponse('An installer exists but may not be used (e.g. newer than CS_VERSION).', 'application/json', { type: 'object', additionalProperties: true }),
      },
      querystring: { type: 'object', additionalProperties: false, properties: { osTag: { type: 'string', minLength: 1, maxLength: 200 }, osName: { type: 'string', minLength: 1, maxLength: 500 } } } },
  }, async (req, reply) => {
    const resolved = queryTag(req.query);
    if ('error' in resolved) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: resolved.error });
    let installer: InstallerInfo;
    try {
      installer = await deps.repository.select(resolved.tag);
    } catch (e) {
      if (!(e instanceof PushError)) throw e;
      const status = e.code === Codes.InstallerMissing ? 404 : 409;
      return reply.code(status).send({ statusCode: status, error: status === 404 ? 'Not Found' : 'Conflict', code: e.code, message: e.message, details: e.details });
    }
    const { file, osTag, platform, version, sha256, size } = installer;
    return {
      installer: { file, osTag, platform, version, sha256, size, download: `/api/v1/repository/installers/${encodeURIComponent(file)}/content` },
      ...manualInstallLines(platform, file, deps.csEndpoint),
    };
  });
};
