// What the API needs from the rest of the daemon, declared apart from the app so the route files and
// the app import it without importing each other.
import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { KeyAgreementView } from '../accounts/key-agreement.ts';
import type { ProcessServerAdmin } from '../jobs/process-server-admin.ts';
import type { AccountStore } from '../accounts/accounts.ts';
import type { HostKeyStore } from '../accounts/host-keys.ts';
import type { ProcessServerRegistry } from '../jobs/process-servers.ts';
import type { JobService } from '../jobs/service.ts';
import type { Logger } from '../logging/logger.ts';
import type { InstallerRepository } from '../repository/repository.ts';
import type { TokenRole, TokenStore } from './tokens.ts';

/** What the API reads of the installer repository. */
export type RepositoryView = Pick<InstallerRepository, 'installers' | 'rejected' | 'osSupport' | 'rescan' | 'readable' | 'eligible' | 'select'> & { dir?: string };

export interface ApiDeps {
  redis: Redis;
  logger: Logger;
  tokens: TokenStore;
  accounts: AccountStore;
  jobs: JobService;
  hostKeys: HostKeyStore;
  processServers: ProcessServerRegistry;
  repository: RepositoryView;
  /** Settings a push needs that are unset (CS_VERSION, ...): /readyz names them; the API runs without them. */
  missingSettings?: readonly string[];
  /** The configuration server's address, filled into the manual install lines (unset: a placeholder). */
  csEndpoint?: string | undefined;
  /** BullMQ job counts of a process server's queue (waiting, active, delayed, ...). */
  queueCounts: (processServerId: string) => Promise<Record<string, number>>;
  /** A fresh connection for a blocking reader (one per SSE stream). */
  blockingRedis: () => Redis;
  /** Process servers as an operator manages them (list, drain, resume). */
  processServerAdmin: ProcessServerAdmin;
  /** This process's vault key agreement (/readyz and /metrics report it). */
  keyAgreement?: KeyAgreementView;
  /** The daemon's Prometheus registry (served at /metrics). */
  metrics: Registry;
  /** Whether this process reaches Redis, and how often that changed (for /metrics). */
  redisState?: { readonly up: boolean; readonly changes: number };
}

/** A route file: a fastify plugin given the API's dependencies. */
export type ApiRoutes = FastifyPluginAsync<{ deps: ApiDeps }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent: no token needed. */
    roles?: readonly TokenRole[];
    /** The route never touches Redis, so it never answers 503 (OpenAPI: see openapi.ts). */
    noStore?: boolean;
  }
  interface FastifyRequest {
    tokenName?: string;
    tokenRole?: TokenRole;
  }
}
