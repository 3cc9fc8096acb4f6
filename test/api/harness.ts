// The API without a daemon: `buildApp(deps)` wired to a private redis-server and the real stores, with
// one token per role, for contract tests that call `app.inject()` (no listener, no guest, no root).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { AccountStore } from '../../src/accounts/accounts.ts';
import { HostKeyStore } from '../../src/accounts/host-keys.ts';
import { VaultKeyring } from '../../src/accounts/keyring.ts';
import { buildApp } from '../../src/api/app.ts';
import type { RepositoryView } from '../../src/api/deps.ts';
import { TOKEN_ROLES, TokenStore, type TokenRole } from '../../src/api/tokens.ts';
import { ProcessServerAdmin } from '../../src/jobs/process-server-admin.ts';
import { ProcessServerRegistry } from '../../src/jobs/process-servers.ts';
import { Queues } from '../../src/jobs/queues.ts';
import { JobMetrics } from '../../src/jobs/metrics.ts';
import { JobService } from '../../src/jobs/service.ts';
import { JobStore } from '../../src/jobs/store.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createRedis } from '../../src/redis/connection.ts';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';
import { checkResponse } from './openapi-check.ts';

export interface ApiHarness {
  app: FastifyInstance;
  redis: LabRedis;
  tokens: Record<TokenRole, string>;
  /** The API's (redacted) log lines. */
  logs: string[];
  /** `app.inject`, the response checked against the OpenAPI document (openapi-check.ts). */
  inject(opts: InjectOptions & { method: string; url: string }): Promise<LightMyRequestResponse>;
  /** `app.inject` with a bearer token (admin unless given; null: none) and a JSON body. */
  call(method: InjectOptions['method'], url: string, body?: unknown, token?: string | null): Promise<{ status: number; text: string; json: <T = Record<string, unknown>>() => T; headers: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** An empty installer repository (the repository has its own tests). */
const emptyRepository: RepositoryView = {
  installers: () => [], rejected: () => [], osSupport: () => [], rescan: async () => undefined, readable: async () => true,
  eligible: () => false, select: async (osTag) => { throw new Error(`no installer for ${osTag}`); },
};

export async function startApiHarness(opts: { processServers?: string[] } = {}): Promise<ApiHarness> {
  const redis = await startLabRedis();
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-api-'));
  const tokenStore = new TokenStore(path.join(dir, 'tokens.json'));
  const tokens = Object.fromEntries(TOKEN_ROLES.map((role) => [role, tokenStore.add(`test-${role}`, role)])) as Record<TokenRole, string>;
  const { keyring } = VaultKeyring.open(path.join(dir, 'vault.key'));
  const conn = createRedis(redis.url, 'api');
  const worker = new Redis(redis.url, { maxRetriesPerRequest: null });
  if (conn.status !== 'ready') await new Promise((resolve) => conn.once('ready', resolve));
  const metrics = new JobMetrics();
  const store = new JobStore(conn, (before, after) => metrics.changed(before, after));
  const accounts = new AccountStore(conn, () => keyring.keys(), { lockoutThreshold: 5, inUse: (id) => store.activeJobIdsUsingAccount(id) });
  const processServers = new ProcessServerRegistry(conn);
  for (const id of opts.processServers ?? ['cs']) await processServers.heartbeat(id, { instance: 'test', pid: process.pid, host: 'test', concurrency: 1 });
  const queues = new Queues(worker, { attempts: 1, backoffMs: 100 });
  const jobs = new JobService({ redis: conn, store, queues, accounts, processServers, defaultProcessServerId: 'cs' });
  const logs: string[] = [];
  const blocking: Redis[] = [];
  const app = await buildApp({
    redis: conn, logger: createLogger('info', { write: (l: string) => { logs.push(l); } }), tokens: tokenStore, accounts, jobs,
    hostKeys: new HostKeyStore(conn), processServers, repository: emptyRepository, metrics: metrics.registry,
    processServerAdmin: new ProcessServerAdmin(processServers, queues),
    queueCounts: (ps) => queues.get(ps).getJobCounts('waiting', 'active', 'delayed'),
    blockingRedis: () => { const r = createRedis(redis.url, 'blocking'); blocking.push(r); return r; },
  });
  await app.ready();
  const inject = async (opts: InjectOptions & { method: string; url: string }) => {
    const res = await app.inject(opts);
    checkResponse({ method: opts.method, url: opts.url, status: res.statusCode, contentType: res.headers['content-type'] as string | undefined, text: res.body });
    return res;
  };
  return {
    app, redis, tokens, logs, inject,
    async call(method, url, body, token = tokens.admin) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await inject({ method: method ?? 'GET', url, headers, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.statusCode, text: res.body, json: <T>() => res.json<T>(), headers: res.headers };
    },
    async stop() {
      await app.close();
      await queues.close();
      for (const r of [conn, worker, ...blocking]) r.disconnect();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
