import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenStore } from './tokens.ts';

/**
 * The onRequest hook that enforces a route's `config.roles`: 401 without a known bearer token, 403 when
 * the token's role is not among them. Routes without `roles` need no token.
 */
export function bearerAuth(tokens: TokenStore) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const roles = req.routeOptions.config.roles;
    if (!roles) return;
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, error: 'Unauthorized', message: 'missing bearer token (Authorization: Bearer <token>)' });
    }
    const entry = tokens.lookup(m[1] as string);
    if (!entry) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ statusCode: 401, error: 'Unauthorized', message: 'unknown token' });
    req.tokenName = entry.name;
    req.tokenRole = entry.role;
    if (!roles.includes(entry.role)) {
      return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: `role ${entry.role} may not ${req.method} ${req.routeOptions.url}` });
    }
  };
}
