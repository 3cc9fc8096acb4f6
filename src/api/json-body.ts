import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../errors/validation-error.ts';
import { fieldPath } from '../errors/ajv-error.ts';

/** Where a parsed body carries a key that could poison prototypes (`__proto__`, `constructor.prototype`), as an instance path. */
export function forbiddenKeyPath(value: unknown, at = ''): string | null {
  if (value === null || typeof value !== 'object') return null;
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  if (own(value, '__proto__')) return `${at}/__proto__`;
  const ctor = (value as { constructor?: unknown }).constructor;
  if (own(value, 'constructor') && ctor !== null && typeof ctor === 'object' && own(ctor, 'prototype')) return `${at}/constructor/prototype`;
  for (const [key, child] of Object.entries(value)) {
    const found = forbiddenKeyPath(child, `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    if (found) return found;
  }
  return null;
}

/**
 * JSON bodies are parsed by fastify's own parser (secure-json-parse, refusing prototype-poisoning keys);
 * when it refuses a body that is valid JSON, the refusal becomes a 400 naming the forbidden key, like
 * every other bad field, instead of "Body is not valid JSON".
 */
export function parseJsonBodies(app: FastifyInstance): void {
  const fastifyParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body: string, done) => {
    fastifyParser(req, body, (err, parsed) => {
      if (!err) { done(null, parsed); return; }
      let plain: unknown;
      // JSON.parse defines "__proto__" as an own key (no prototype is touched), so the key can be located.
      try { plain = JSON.parse(body); } catch { done(err, undefined); return; }
      const at = forbiddenKeyPath(plain);
      done(at === null ? err : new ValidationError(fieldPath(at), 'is a forbidden key (__proto__ and constructor.prototype are refused: they could alter object prototypes)'), undefined);
    });
  });
}
