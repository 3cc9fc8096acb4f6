// Every response a contract test sees, checked against the committed OpenAPI document: the operation
// (method + path template) must document the status, and the body must match that status's schema for
// its media type (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). An undocumented status throws.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const DOC_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/openapi.json');

/** Served but outside the contract: the metrics scrape, the document itself and its UI. */
const UNDOCUMENTED = [/^\/metrics$/, /^\/openapi\.json$/, /^\/docs(\/|$)/];

interface Operation { responses: Record<string, { content?: Record<string, { schema?: object }> }> }
type Doc = { paths: Record<string, Record<string, Operation>> };

const doc = JSON.parse(readFileSync(DOC_FILE, 'utf8')) as Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...doc, $id: 'openapi.json' });
const compiled = new Map<string, ValidateFunction>();

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const templates = Object.keys(doc.paths).map((template) => ({
  template,
  regex: new RegExp(`^${template.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '{' || c === '}' ? c : `\\${c}`)).replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** The documented path template of a URL (null: no documented path). */
export function pathTemplate(url: string): string | null {
  const p = url.split('?')[0] as string;
  return templates.find((t) => t.regex.test(p))?.template ?? null;
}

export interface CheckedResponse { method: string; url: string; status: number; contentType?: string; text: string }

/** Throws when the response is not what the document promises for its operation and status. */
export function checkResponse(r: CheckedResponse): void {
  const p = r.url.split('?')[0] as string;
  if (UNDOCUMENTED.some((re) => re.test(p))) return;
  const template = pathTemplate(r.url);
  const where = `${r.method} ${r.url} → ${r.status}`;
  if (template === null) {
    // Only the not-found handler answers a path the document does not know.
    if (r.status === 404) return;
    throw new Error(`${where}: no documented path`);
  }
  const op = doc.paths[template]?.[r.method.toLowerCase()];
  if (!op) { if (r.status === 404) return; throw new Error(`${where}: ${r.method} ${template} is not documented`); }
  const response = op.responses[String(r.status)];
  if (!response) throw new Error(`${where}: status ${r.status} is not documented for ${r.method} ${template} (documented: ${Object.keys(op.responses).join(', ')})`);
  if (!response.content) {
    if (r.text !== '') throw new Error(`${where}: documented without a body, answered ${r.text.slice(0, 200)}`);
    return;
  }
  const mediaType = (r.contentType ?? '').split(';')[0]?.trim() ?? '';
  const media = response.content[mediaType];
  if (!media) throw new Error(`${where}: media type ${mediaType || '(none)'} is not documented (documented: ${Object.keys(response.content).join(', ')})`);
  if (mediaType !== 'application/json') return;
  const key = pointer(template, r.method.toLowerCase(), 'responses', String(r.status), 'content', mediaType, 'schema');
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json#/paths/${key}` });
    compiled.set(key, validate);
  }
  const body: unknown = JSON.parse(r.text);
  if (!validate(body)) throw new Error(`${where}: the body does not match the documented schema: ${ajv.errorsText(validate.errors)}\n${r.text.slice(0, 500)}`);
}
