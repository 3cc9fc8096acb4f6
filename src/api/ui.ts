import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** The dashboard's own files (plain ES modules, no build step). */
const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

const require = createRequire(import.meta.url);
/**
 * The component library, served from node_modules so the page works offline and with no CDN; the page's
 * import map points the bare names (`preact`, `preact/hooks`, `htm`) here.
 */
const VENDOR: Record<string, string> = {
  'preact.mjs': require.resolve('preact'),
  'hooks.mjs': require.resolve('preact/hooks'),
  'htm.mjs': path.join(path.dirname(require.resolve('htm')), 'htm.module.js'),
};

/** `GET /ui`: the operator dashboard, static; it signs in with an API token and uses only the public API. */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: WEB_DIR, prefix: '/ui/', index: ['index.html'], cacheControl: false });
  app.get('/ui', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/'));
  app.get<{ Params: { file: string } }>('/ui/vendor/:file', { schema: { hide: true } }, async (req, reply) => {
    const file = VENDOR[req.params.file];
    if (!file) return reply.callNotFound();
    return reply.type('text/javascript; charset=utf-8').sendFile(path.basename(file), path.dirname(file));
  });
};
