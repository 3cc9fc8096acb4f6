// Writes docs/openapi.json (the document a portal generates its client from) and src/client/openapi.ts
// (the types the API client is built on), both derived from the routes: `npm run openapi`.
// test/api/openapi-document.test.ts fails when either is not current.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { Registry } from 'prom-client';
import { buildApp } from '../src/api/app.ts';
import type { ApiDeps } from '../src/api/deps.ts';
import { createLogger } from '../src/logging/logger.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DOCUMENT_FILE = path.join(root, 'docs/openapi.json');
export const TYPES_FILE = path.join(root, 'src/client/openapi.ts');

/** The document as the daemon serves it at /openapi.json (routes register without touching their dependencies). */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const deps = { logger: createLogger('silent', { write: () => {} }), metrics: new Registry() } as unknown as ApiDeps;
  const app = await buildApp(deps);
  await app.ready();
  try {
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

export const documentText = (doc: object) => JSON.stringify(doc, null, 2) + '\n';

/** The TypeScript types of the document (openapi-typescript), as committed in src/client/openapi.ts. */
export async function openApiTypes(doc: object): Promise<string> {
  const banner = '// Generated from docs/openapi.json by `npm run openapi` (openapi-typescript): do not edit.\n/* eslint-disable */\n';
  return banner + astToString(await openapiTS(JSON.parse(JSON.stringify(doc)), { alphabetize: false }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = await openApiDocument();
  writeFileSync(DOCUMENT_FILE, documentText(doc));
  writeFileSync(TYPES_FILE, await openApiTypes(doc));
  console.log(`wrote ${path.relative(root, DOCUMENT_FILE)} and ${path.relative(root, TYPES_FILE)}`);
}
