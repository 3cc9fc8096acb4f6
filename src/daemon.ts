import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AccountStore } from './accounts/accounts.ts';
import { HostKeyStore } from './accounts/host-keys.ts';
import { TlsPinStore } from './accounts/tls-pins.ts';
import { VaultKeyring } from './accounts/keyring.ts';
import { buildApp } from './api/app.ts';
import { TokenStore } from './api/tokens.ts';
import type { Config } from './config.ts';
import { ProcessServerRegistry } from './jobs/process-servers.ts';
import { Queues } from './jobs/queues.ts';
import { JobService } from './jobs/service.ts';
import { LeaseSet } from './jobs/leases.ts';
import { JobMetrics } from './jobs/metrics.ts';
import { JobStore } from './jobs/store.ts';
import { PushWorker } from './jobs/worker.ts';
import type { JobRecord } from './domain/job.ts';
import type { Logger } from './logging/logger.ts';
import type { PipelineDeps } from './pipeline/deps.ts';
import { createRedis } from './redis/connection.ts';
import { embeddedRedisUrlFile, startRedisServer, type EmbeddedRedis } from './redis/embedded.ts';
import { InstallerRepository } from './repository/repository.ts';
import { SshChannel } from './transports/ssh/ssh-channel.ts';
import { WinrmClient } from './transports/winrm/index.ts';

export interface Daemon {
  /** Where the API listens (when the api role runs). */
  url: string | null;
  redisUrl: string;
  app: FastifyInstance | null;
  worker: PushWorker | null;
  /** Printed once on first start: the admin token. */
  firstAdminToken: string | null;
  stop(): Promise<void>;
}

async function waitReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis did not become ready within 30 s')), 30_000);
    redis.once('ready', () => { clearTimeout(timer); resolve(); });
  });
}

/** The composition root: config → redis → repository → api and/or worker, as the roles say. */
export async function startDaemon(config: Config, logger: Logger): Promise<Daemon> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const cleanups: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) {
      try { await fn(); } catch (e) { logger.warn({ err: (e as Error).message }, 'error during shutdown'); }
    }
  };
  try {
    const tokens = new TokenStore(config.apiTokensFile);
    const firstAdminToken = config.roles.includes('api') ? tokens.ensure() : null;
    const vault = VaultKeyring.open(config.vaultKeyFile, (message) => logger.warn({ file: config.vaultKeyFile }, message));
    if (vault.created) logger.info({ file: config.vaultKeyFile }, 'created a new vault key (mode 0600); back it up: without it the run-as accounts cannot be decrypted');
    // A key rotation (CLI) rewrites the key file; pick the new key list up without a restart.
    const keyring = vault.keyring;
    keyring.watch(2000);
    cleanups.push(async () => keyring.stop());

    let embedded: EmbeddedRedis | null = null;
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      embedded = await startRedisServer(`${config.dataDir}/redis`, { logger });
      redisUrl = embedded.url;
      // Where the CLI finds the embedded Redis (vault rotate-key) while the daemon runs.
      writeFileSync(embeddedRedisUrlFile(config.dataDir), `${redisUrl}\n`, { mode: 0o600 });
      cleanups.push(async () => {
        rmSync(embeddedRedisUrlFile(config.dataDir), { force: true });
        await (embedded as EmbeddedRedis).stop();
      });
    }
    const apiRedis = createRedis(redisUrl, 'api');
    const workerRedis = createRedis(redisUrl, 'worker');
    for (const r of [apiRedis, workerRedis]) {
      r.on('error', (e: Error) => logger.debug({ err: e.message }, 'redis connection error'));
      cleanups.push(async () => r.disconnect());
    }
    await Promise.all([waitReady(apiRedis), waitReady(workerRedis)]);

    const repository = new InstallerRepository({ dir: config.repositoryDir, processServerId: config.processServerId, csVersion: config.csVersion, logger, settleMs: config.repositorySettleMs });
    await repository.start();
    cleanups.push(() => repository.stop());

    const lockout = { lockoutThreshold: config.accountLockoutThreshold, reloadKeys: () => keyring.reload() };
    // One registry per daemon: both roles' changes are counted in it and served by this daemon's /metrics.
    const metrics = new JobMetrics();
    const observe = (before: JobRecord, after: JobRecord) => metrics.changed(before, after);
    const workerStore = new JobStore(workerRedis, observe);
    const apiStore = new JobStore(apiRedis, observe);
    const workerAccounts = new AccountStore(workerRedis, () => keyring.keys(), { ...lockout, inUse: (id) => workerStore.activeJobIdsUsingAccount(id) });
    const apiAccounts = new AccountStore(apiRedis, () => keyring.keys(), { ...lockout, inUse: (id) => apiStore.activeJobIdsUsingAccount(id) });
    const registry = new ProcessServerRegistry(workerRedis);
    const hostKeys = new HostKeyStore(workerRedis, logger);

    let worker: PushWorker | null = null;
    if (config.roles.includes('worker')) {
      const subscriber = createRedis(redisUrl, 'blocking');
      subscriber.on('error', () => undefined);
      cleanups.push(async () => subscriber.disconnect());
      const pipeline: PipelineDeps = {
        settings: {
          csEndpoint: config.csEndpoint,
          csPassphraseFile: config.csPassphraseFile,
          csVersion: config.csVersion,
          connectTimeoutMs: config.connectTimeoutMs,
          stepTimeoutMs: config.stepTimeoutSec * 1000,
          processServerId: config.processServerId,
          hostKeyPolicy: config.hostKeyPolicy,
        },
        repository,
        accounts: workerAccounts,
        hostKeys,
        connectSsh: (o) => SshChannel.connect(o),
        connectWinrm: (o) => WinrmClient.connect(o),
        tlsPins: new TlsPinStore(workerRedis),
      };
      worker = new PushWorker(
        { connection: workerRedis, subscriber, store: workerStore, registry, pipeline, logger, slots: new LeaseSet(workerRedis, 'pi:global-slots', config.globalConcurrency), metrics },
        {
          processServerId: config.processServerId, concurrency: config.workerConcurrency, processServerConcurrency: config.processServerConcurrency,
          lockDurationMs: config.jobLockMs, shutdownGraceMs: config.shutdownGraceSec * 1000,
        },
      );
      await worker.start();
      cleanups.push(() => (worker as PushWorker).stop());
    }

    let app: FastifyInstance | null = null;
    let url: string | null = null;
    if (config.roles.includes('api')) {
      const queues = new Queues(workerRedis, { attempts: config.jobRetries + 1, backoffMs: config.jobBackoffMs });
      cleanups.push(() => queues.close());
      const jobs = new JobService({
        redis: apiRedis, store: apiStore, queues, accounts: apiAccounts,
        processServers: new ProcessServerRegistry(apiRedis), defaultProcessServerId: config.processServerId,
      });
      const blocking: Redis[] = [];
      app = await buildApp({
        redis: apiRedis, logger, tokens, accounts: apiAccounts, jobs, hostKeys: new HostKeyStore(apiRedis),
        processServers: new ProcessServerRegistry(apiRedis), repository, metrics: metrics.registry,
        queueCounts: (ps) => queues.get(ps).getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
        blockingRedis: () => {
          const r = createRedis(redisUrl as string, 'blocking');
          r.on('error', () => undefined);
          blocking.push(r);
          r.once('end', () => blocking.splice(blocking.indexOf(r), 1));
          return r;
        },
      });
      url = await app.listen({ host: config.host, port: config.port });
      cleanups.push(async () => { for (const r of blocking) r.disconnect(); await (app as FastifyInstance).close(); });
      logger.info({ url }, 'API listening');
    }

    return { url, redisUrl, app, worker, firstAdminToken, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
