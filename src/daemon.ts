import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { AccountStore } from './accounts/accounts.ts';
import { HostKeyStore } from './accounts/host-keys.ts';
import { checkKeyAgreement, KeyAgreementError, KeyAgreementMonitor, type KeyAgreementView } from './accounts/key-agreement.ts';
import { VaultKeyring } from './accounts/keyring.ts';
import { buildApp } from './api/app.ts';
import { TokenStore } from './api/tokens.ts';
import { missingPushSettings, type Config } from './config.ts';
import { ProcessServerRegistry } from './jobs/process-servers.ts';
import { ProcessServerAdmin } from './jobs/process-server-admin.ts';
import { Queues } from './jobs/queues.ts';
import { JobMetrics } from './jobs/metrics.ts';
import { buildMetricsServer } from './api/metrics-server.ts';
import { JobService } from './jobs/service.ts';
import { LeaseSet } from './jobs/leases.ts';
import { RetentionSweeper } from './jobs/retention.ts';
import { JobStore } from './jobs/store.ts';
import { PushWorker } from './jobs/worker.ts';
import type { Logger } from './logging/logger.ts';
import type { PipelineDeps } from './pipeline/deps.ts';
import { checkSentinels, createRedis, describeTarget, type RedisTarget } from './redis/connection.ts';
import { RedisConnectionState } from './redis/connection-state.ts';
import { embeddedRedisUrlFile, startRedisServer } from './redis/embedded.ts';
import { InstallerRepository } from './repository/repository.ts';
import { SmbFileChannel } from './transports/smb/index.ts';
import { SshChannel } from './transports/ssh/ssh-channel.ts';
import { WinrmClient } from './transports/winrm/index.ts';

export interface Daemon {
  /** Where the API listens (when the api role runs). */
  url: string | null;
  /** The Redis URL (with Sentinel: a description of the sentinels, not a URL). */
  redisUrl: string;
  app: FastifyInstance | null;
  worker: PushWorker | null;
  /** Printed once on first start: the admin token. */
  firstAdminToken: string | null;
  stop(): Promise<void>;
}

/** What start-up has opened, closed in reverse order on stop or on a failed start. */
class Cleanups {
  private readonly steps: Array<() => Promise<unknown>> = [];

  constructor(private readonly logger: Logger) {}

  push(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try { await step(); } catch (e) { this.logger.warn({ err: (e as Error).message }, 'error during shutdown'); }
    }
  }
}

/** What every wiring step gets. */
interface Wiring {
  config: Config;
  logger: Logger;
  cleanups: Cleanups;
  /** Whether this process reaches Redis (one log line per change, counts for /metrics). */
  redisState: RedisConnectionState;
  /** One registry per daemon: both roles' job changes are counted in it and served by this daemon's /metrics. */
  metrics: JobMetrics;
}

/** A job store on one connection whose every change feeds the daemon's metrics. */
function jobStore(w: Wiring, redis: Redis): JobStore {
  return new JobStore(redis, (before, after) => w.metrics.changed(before, after));
}

/**
 * The Redis connections of this process: the API's fails fast, the worker's waits for Redis, and
 * BullMQ's (queues and the worker's queue reads; it waits too). BullMQ defines its ~60 Lua scripts as
 * commands on the connection it is given, and ioredis copies every defined command into each
 * pipeline() made on that connection (47 µs instead of 3 µs each, measured): the store's pipelines stay
 * on connections without them.
 */
interface RedisConnections {
  target: RedisTarget;
  api: Redis;
  worker: Redis;
  queue: Redis;
}

async function waitReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis did not become ready within 30 s')), 30_000);
    redis.once('ready', () => { clearTimeout(timer); resolve(); });
  });
}

/** The vault keyring, created on first start, re-read while running: a key rotation (CLI) rewrites the file. */
function openVault({ config, logger, cleanups }: Wiring): VaultKeyring {
  const vault = VaultKeyring.open(config.vaultKeyFile, (message) => logger.warn({ file: config.vaultKeyFile }, message));
  if (vault.created) logger.info({ file: config.vaultKeyFile }, 'created a new vault key (mode 0600); back it up: without it the run-as accounts cannot be decrypted');
  const keyring = vault.keyring;
  keyring.watch(2000);
  cleanups.push(async () => keyring.stop());
  return keyring;
}

/**
 * The vault key agreement: a process whose key file lacks the cluster's active key refuses to start
 * (KeyAgreementError, exit 2); one that loses it while running (a rotation elsewhere) takes no job,
 * says so once, and resumes by itself when its key file (re-read) holds the key again.
 */
async function watchKeyAgreement({ config, logger, cleanups }: Wiring, redis: Redis, keyring: VaultKeyring): Promise<KeyAgreementMonitor> {
  const accounts = new AccountStore(redis, () => keyring.keys(), { lockoutThreshold: config.accountLockoutThreshold, inUse: async () => [] });
  const check = () => checkKeyAgreement(redis, { keys: () => keyring.reload(), sealedUnder: () => accounts.sealedKeyIds(), file: config.vaultKeyFile });
  const initial = await check();
  if (!initial.agreed) throw new KeyAgreementError(initial.reason);
  const monitor = new KeyAgreementMonitor(initial, check);
  monitor.onChange((state) => {
    if (state.agreed) logger.info({ activeKeyId: state.activeKeyId }, 'vault key agreement restored: taking jobs again');
    else logger.warn({ activeKeyId: state.activeKeyId, missing: state.missing, file: config.vaultKeyFile }, `vault key mismatch, taking no job: ${state.reason}`);
  });
  monitor.watch(2000);
  cleanups.push(async () => monitor.stop());
  return monitor;
}

/** Without REDIS_URL: a private redis-server under DATA_DIR, its URL written where the CLI finds it. */
async function startEmbeddedRedis({ config, logger, cleanups }: Wiring): Promise<string> {
  const embedded = await startRedisServer(`${config.dataDir}/redis`, { logger });
  // Where the CLI finds the embedded Redis (vault rotate-key) while the daemon runs.
  writeFileSync(embeddedRedisUrlFile(config.dataDir), `${embedded.url}\n`, { mode: 0o600 });
  cleanups.push(async () => {
    rmSync(embeddedRedisUrlFile(config.dataDir), { force: true });
    await embedded.stop();
  });
  return embedded.url;
}

/** Creates a connection that is closed on stop (its errors feed the connection state: ioredis reconnects). */
function connection(w: Wiring, url: RedisTarget, purpose: 'api' | 'worker' | 'blocking'): Redis {
  const r = w.redisState.watch(createRedis(url, purpose));
  w.cleanups.push(async () => r.disconnect());
  return r;
}

/** REDIS_SENTINELS (checked first), else REDIS_URL, else an embedded redis-server. */
async function connectRedis(w: Wiring): Promise<RedisConnections> {
  const { redisSentinel, redisUrl } = w.config;
  if (redisSentinel) await checkSentinels(redisSentinel);
  const target: RedisTarget = redisSentinel ?? redisUrl ?? (await startEmbeddedRedis(w));
  const api = connection(w, target, 'api');
  const worker = connection(w, target, 'worker');
  const queue = connection(w, target, 'worker');
  await Promise.all([waitReady(api), waitReady(worker), waitReady(queue)]);
  w.logger.info({ redis: describeTarget(target) }, 'connected to Redis');
  return { target, api, worker, queue };
}

async function startRepository({ config, logger, cleanups }: Wiring): Promise<InstallerRepository> {
  const repository = new InstallerRepository({ dir: config.repositoryDir, processServerId: config.processServerId, csVersion: config.csVersion, processServerVersion: config.processServerVersion, logger, settleMs: config.repositorySettleMs });
  await repository.start();
  cleanups.push(() => repository.stop());
  return repository;
}

/** The run-as accounts on one connection; `store` tells which jobs use an account (delete refuses those). */
function accountStore(config: Config, redis: Redis, keyring: VaultKeyring, store: JobStore, agreement: KeyAgreementView): AccountStore {
  return new AccountStore(redis, () => keyring.keys(), {
    lockoutThreshold: config.accountLockoutThreshold,
    reloadKeys: () => keyring.reload(),
    inUse: (id) => store.activeJobIdsUsingAccount(id),
    sealingRefused: () => { const s = agreement.current(); return s.agreed ? null : s.reason; },
  });
}

/** What the pipeline works with: settings, installers, accounts, guest trust, and how to reach guests. */
function pipelineDeps(config: Config, repository: InstallerRepository, accounts: AccountStore, trust: HostKeyStore): PipelineDeps {
  return {
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
    accounts,
    hostKeys: trust.ssh,
    connectSsh: (o) => SshChannel.connect(o),
    connectSmbFiles: (o) => SmbFileChannel.connect(o),
    connectWinrm: (o) => WinrmClient.connect(o),
    tlsPins: trust.tls,
  };
}

/** When running jobs are handed back: early enough in the grace for the hand-back to be recorded before the process must exit. */
function handBackAt(graceSec: number): number {
  return Math.max(0, graceSec * 1000 - Math.min(5000, Math.floor(graceSec * 1000 / 3)));
}

function createWorker(w: Wiring, { worker: redis, queue }: RedisConnections, subscriber: Redis, queues: Queues, pipeline: PipelineDeps, onRedisError: (e: Error) => void, keyAgreement: KeyAgreementMonitor): PushWorker {
  const { config, logger, metrics } = w;
  return new PushWorker(
    {
      connection: redis, queueConnection: queue, subscriber, store: jobStore(w, redis), queues, registry: new ProcessServerRegistry(redis), pipeline, logger, metrics,
      slots: new LeaseSet(redis, 'pi:global-slots', config.globalConcurrency), onRedisError, keyAgreement,
    },
    {
      processServerId: config.processServerId, concurrency: config.workerConcurrency, processServerConcurrency: config.processServerConcurrency,
      lockDurationMs: config.jobLockMs, shutdownGraceMs: handBackAt(config.shutdownGraceSec),
    },
  );
}

/** The worker role: takes this process server's jobs and runs the pipeline. */
async function startWorker(w: Wiring, redis: RedisConnections, queues: Queues, keyring: VaultKeyring, repository: InstallerRepository, keyAgreement: KeyAgreementMonitor): Promise<PushWorker> {
  const { config, logger } = w;
  const subscriber = connection(w, redis.target, 'blocking');
  const accounts = accountStore(config, redis.worker, keyring, new JobStore(redis.worker), keyAgreement);
  const pipeline = pipelineDeps(config, repository, accounts, new HostKeyStore(redis.worker, logger));
  const worker = createWorker(w, redis, subscriber, queues, pipeline, (e) => w.redisState.error(e, 'worker error'), keyAgreement);
  await worker.start();
  w.cleanups.push(() => worker.stop());
  const retention = new RetentionSweeper(new JobStore(redis.worker), redis.worker, worker.instance, config.jobRetentionDays, logger);
  retention.start();
  w.cleanups.push(() => retention.stop());
  return worker;
}

/**
 * The one producer of queue entries (the API's submits, the worker's re-queued orphans), on BullMQ's
 * connection (it waits for Redis rather than failing), shared by both roles.
 */
function createQueues({ config, cleanups, redisState }: Wiring, redis: Redis): Queues {
  const queues = new Queues(redis, { attempts: config.jobRetries + 1, backoffMs: config.jobBackoffMs }, (e) => redisState.error(e, 'queue error'));
  cleanups.push(() => queues.close());
  return queues;
}

/** A fresh blocking connection per SSE stream; those still open are disconnected on stop. */
function blockingConnections(url: RedisTarget, state: RedisConnectionState): { connect: () => Redis; disconnectAll: () => void } {
  const open: Redis[] = [];
  return {
    connect: () => {
      const r = state.watch(createRedis(url, 'blocking'));
      open.push(r);
      r.once('end', () => open.splice(open.indexOf(r), 1));
      return r;
    },
    disconnectAll: () => { for (const r of open) r.disconnect(); },
  };
}

/** The api role: the REST API on HOST:PORT. */
async function startApi(
  w: Wiring, redis: RedisConnections, queues: Queues, keyring: VaultKeyring, repository: InstallerRepository, tokens: TokenStore, keyAgreement: KeyAgreementMonitor,
): Promise<{ app: FastifyInstance; url: string }> {
  const { config, logger } = w;
  const store = jobStore(w, redis.api);
  const accounts = accountStore(config, redis.api, keyring, store, keyAgreement);
  const processServers = new ProcessServerRegistry(redis.api);
  const jobs = new JobService({ redis: redis.api, store, queues, accounts, processServers, defaultProcessServerId: config.processServerId });
  const blocking = blockingConnections(redis.target, w.redisState);
  const app = await buildApp({
    redis: redis.api, logger, tokens, accounts, jobs, hostKeys: new HostKeyStore(redis.api), processServers, repository, metrics: w.metrics.registry,
    missingSettings: missingPushSettings(config), csEndpoint: config.csEndpoint, keyAgreement,
    processServerAdmin: new ProcessServerAdmin(processServers, queues),
    blockingRedis: blocking.connect,
    redisState: w.redisState,
    queueCounts: (ps) => queues.get(ps).getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
  });
  // SSE streams end when their connection does: close those first, or app.close() would wait for them.
  w.cleanups.push(async () => { blocking.disconnectAll(); await app.close(); });
  const url = await app.listen({ host: config.host, port: config.port });
  logger.info({ url }, 'API listening');
  return { app, url };
}

/** A process without the api role: /metrics, /healthz and /readyz on HOST:METRICS_PORT. */
async function startMetricsListener(w: Wiring, redis: Redis, repository: InstallerRepository, keyAgreement: KeyAgreementMonitor): Promise<void> {
  const { config, logger } = w;
  const app = buildMetricsServer({ registry: w.metrics.registry, redis, repository, keyAgreement, missingSettings: missingPushSettings(config), redisState: w.redisState });
  w.cleanups.push(() => app.close());
  const url = await app.listen({ host: config.host, port: config.metricsPort ?? 0 });
  logger.info({ url }, 'metrics listening');
}

/** The composition root: config → vault → redis → repository → worker and/or api, as the roles say. */
export async function startDaemon(config: Config, logger: Logger): Promise<Daemon> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const w: Wiring = { config, logger, cleanups: new Cleanups(logger), metrics: new JobMetrics(), redisState: new RedisConnectionState(logger) };
  const missing = missingPushSettings(config);
  if (missing.length > 0) logger.warn({ missing }, `${missing.join(', ')} not set: jobs that push an agent fail with 99016 until set (see /readyz)`);
  const stop = () => w.cleanups.runAll();
  try {
    const tokens = new TokenStore(config.apiTokensFile);
    const firstAdminToken = config.roles.includes('api') ? tokens.ensure() : null;
    const keyring = openVault(w);
    const redis = await connectRedis(w);
    const keyAgreement = await watchKeyAgreement(w, redis.worker, keyring);
    const repository = await startRepository(w);
    const queues = createQueues(w, redis.queue);
    const worker = config.roles.includes('worker') ? await startWorker(w, redis, queues, keyring, repository, keyAgreement) : null;
    const api = config.roles.includes('api') ? await startApi(w, redis, queues, keyring, repository, tokens, keyAgreement) : null;
    if (config.metricsPort !== null) await startMetricsListener(w, redis.worker, repository, keyAgreement);
    return { url: api?.url ?? null, redisUrl: typeof redis.target === 'string' ? redis.target : describeTarget(redis.target), app: api?.app ?? null, worker, firstAdminToken, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
