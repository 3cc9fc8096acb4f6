// The OpenAPI document is a contract portals generate clients from: it is valid OpenAPI (a real
// validator), the committed docs/openapi.json and src/client/openapi.ts are what the routes produce,
// and every operation is named, described and documents the statuses of its declaration.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import pkg from '../../package.json' with { type: 'json' };
import { DOCUMENT_FILE, TYPES_FILE, documentText, openApiDocument, openApiTypes } from '../../scripts/openapi.ts';

interface Op { operationId?: string; summary?: string; tags?: string[]; security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown; parameters?: Array<{ in: string }> }
type Doc = { info: { version: string }; paths: Record<string, Record<string, Op>>; components: { schemas: Record<string, unknown> } };

describe('OpenAPI document', () => {
  let doc: Doc;
  const operations = () => Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ where: `${m.toUpperCase()} ${p}`, op })));

  before(async () => { doc = await openApiDocument() as unknown as Doc; });

  it('is valid OpenAPI (swagger-parser validates it against the specification and resolves every $ref)', async () => {
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  it('docs/openapi.json and src/client/openapi.ts are current (npm run openapi regenerates them)', async () => {
    assert.equal(readFileSync(DOCUMENT_FILE, 'utf8'), documentText(doc), 'docs/openapi.json is stale: npm run openapi');
    assert.equal(readFileSync(TYPES_FILE, 'utf8'), await openApiTypes(doc), 'src/client/openapi.ts is stale: npm run openapi');
  });

  it('info.version follows package.json', () => {
    assert.equal(doc.info.version, pkg.version);
  });

  it('every operation has a unique camelCase operationId, a summary and a tag', () => {
    const ids = new Set<string>();
    for (const { where, op } of operations()) {
      assert.match(op.operationId ?? '', /^[a-z][A-Za-z0-9]+$/, `${where}: operationId`);
      assert.ok(!ids.has(op.operationId as string), `${where}: operationId ${op.operationId} twice`);
      ids.add(op.operationId as string);
      assert.ok(op.summary, `${where}: summary`);
      assert.ok(op.tags?.length, `${where}: tags`);
    }
  });

  it('the statuses of each declaration: 401 with a token, 400/413/415 with a body, 404 with a path parameter; health needs no token', () => {
    for (const { where, op } of operations()) {
      const codes = Object.keys(op.responses);
      const open = Array.isArray(op.security) && op.security.length === 0;
      assert.ok(codes.some((c) => c.startsWith('2')), `${where}: a 2xx`);
      if (!open) assert.ok(codes.includes('401'), `${where}: 401`);
      if (op.requestBody) for (const c of ['400', '413', '415']) assert.ok(codes.includes(c), `${where}: ${c}`);
      if (op.parameters?.some((p) => p.in === 'path')) assert.ok(codes.includes('404') && codes.includes('400'), `${where}: 400 and 404`);
      if (where.endsWith('/healthz') || where.endsWith('/readyz')) assert.ok(open, `${where}: no security`);
      else assert.ok(!open, `${where}: needs a token`);
    }
  });

  it('the domain is named: Job, Task, JobError, Account, Installer, Error, ...', () => {
    for (const name of ['Job', 'Task', 'JobError', 'Account', 'Installer', 'Error', 'SubmittedJob', 'HostPin', 'JobEvent', 'OsSupportEntry']) {
      assert.ok(doc.components.schemas[name], name);
    }
    const json = JSON.stringify(doc.paths);
    assert.ok(!json.includes('"def-'), 'an unnamed schema');
  });

  it('deletes answer 204 without a body; the log is text/plain; event streams are text/event-stream', () => {
    assert.deepEqual(doc.paths['/api/v1/run-as-accounts/{id}']?.delete?.responses['204'], { description: 'Deleted.' });
    assert.ok(JSON.stringify(doc.paths['/api/v1/jobs/{id}/log']?.get?.responses['200']).includes('text/plain'));
    for (const p of ['/api/v1/jobs/{id}/events', '/api/v1/events']) assert.ok(JSON.stringify(doc.paths[p]?.get?.responses['200']).includes('text/event-stream'), p);
  });
});
