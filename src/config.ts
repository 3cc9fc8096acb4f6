import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { HOST_KEY_POLICIES, isHostKeyPolicy, type HostKeyPolicy } from './domain/os.ts';

export type Role = 'api' | 'worker';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

/** Redis through Sentinel: the sentinels to ask, the primary's name, and the passwords (never logged). */
export interface RedisSentinelTarget {
  sentinels: Array<{ host: string; port: number }>;
  name: string;
  sentinelPassword?: string;
  password?: string;
}

export interface Config {
  host: string;
  port: number;
  /** Where a process without the api role serves /metrics, /healthz and /readyz on HOST (null: nowhere). */
  metricsPort: number | null;
  roles: Role[];
  redisUrl: string | undefined;
  /** Set when REDIS_SENTINELS is: every connection then finds the primary through the sentinels. */
  redisSentinel: RedisSentinelTarget | undefined;
  dataDir: string;
  repositoryDir: string;
  processServerId: string;
  csEndpoint: string | undefined;
  csPassphraseFile: string | undefined;
  /** The configuration server's version: no installer newer than it is pushed (unset: none is, 99016). */
  csVersion: string | undefined;
  /** This scale-out process server's own version (optional): no installer newer than it is pushed from here. */
  processServerVersion: string | undefined;
  vaultKeyFile: string;
  apiTokensFile: string;
  workerConcurrency: number;
  logLevel: string;
  /** `pretty` (for a person; default when stdout is a terminal) or `json` (one object a line; default otherwise). */
  logFormat: LogFormat;
  /** Retries of transient faults per job (attempts = retries + 1). */
  jobRetries: number;
  /** First backoff delay in ms; doubles per attempt. */
  jobBackoffMs: number;
  /** BullMQ lock duration: how soon a job held by a dead worker is taken up again. */
  jobLockMs: number;
  /** Seconds a step may run before it times out. */
  stepTimeoutSec: number;
  /** Seconds to wait for running jobs on SIGTERM before handing them back. */
  shutdownGraceSec: number;
  /** Connect timeout for guest channels, ms. */
  connectTimeoutMs: number;
  /** Consecutive authentication failures after which a run-as account is suspended. */
  accountLockoutThreshold: number;
  /** SSH host key policy when a request does not name one. */
  hostKeyPolicy: HostKeyPolicy;
  /** How long an installer file must stay unchanged before it is offered (partial copies are never used). */
  repositorySettleMs: number;
  /** Cap on concurrent pushes across every process server (0 = no cap). */
  globalConcurrency: number;
  /** Cap on concurrent pushes of all workers of this process server together (0 = no cap). */
  processServerConcurrency: number;
  /** Days a final job (record, events, log) is kept before the retention sweep removes it (0 = forever). */
  jobRetentionDays: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const PS_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const VERSION = /^\d+(\.\d+){1,3}$/;

function integer(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A non-negative decimal such as 30 or 0.5. */
function decimal(env: Env, name: string, def: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(name, `must be a number of days such as 30 or 0.5 (0 = keep forever), got "${raw}"`);
  const value = Number(raw.trim());
  if (value > max) throw new ConfigError(name, `must be at most ${max}, got ${value}`);
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * Reads a `.env` file (KEY=value lines, # comments, optional quotes) without overriding variables that
 * are already set in the environment.
 */
export function readDotEnv(file: string): Env {
  if (!existsSync(file)) return {};
  const out: Env = {};
  for (const [index, rawLine] of readFileSync(file, 'utf8').split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${index + 1}`, 'is not a KEY=value line');
    let value = m[2] ?? '';
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[m[1] as string] = value;
  }
  return out;
}

function optionalVersion(env: Env, name: string): string | undefined {
  const value = optional(env, name);
  if (value !== undefined && !VERSION.test(value)) throw new ConfigError(name, `must be a dotted version such as 9.30.0.0, got "${value}"`);
  return value;
}

/** Settings a worker needs to push that are unset, for /readyz and the start-up log (the API runs without them). */
export function missingPushSettings(config: Pick<Config, 'csVersion' | 'csEndpoint' | 'csPassphraseFile'>): string[] {
  const missing: string[] = [];
  if (!config.csVersion) missing.push('CS_VERSION');
  if (!config.csEndpoint) missing.push('CS_ENDPOINT');
  if (!config.csPassphraseFile) missing.push('CS_PASSPHRASE_FILE');
  return missing;
}

function parseRoles(env: Env): Role[] {
  const roles = (env.ROLES ?? 'api,worker').split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (roles.length === 0) throw new ConfigError('ROLES', 'must name at least one of api, worker');
  for (const role of roles) {
    if (role !== 'api' && role !== 'worker') throw new ConfigError('ROLES', `has unknown role "${role}" (allowed: api, worker)`);
  }
  return roles as Role[];
}

function parseSentinel(env: Env, redisUrl: string | undefined): RedisSentinelTarget | undefined {
  const raw = optional(env, 'REDIS_SENTINELS');
  if (raw === undefined) return undefined;
  if (redisUrl !== undefined) throw new ConfigError('REDIS_SENTINELS', 'cannot be combined with REDIS_URL (set one of them)');
  const sentinels = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const m = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(s);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) throw new ConfigError('REDIS_SENTINELS', `must be host:port,host:port,..., got "${s}"`);
    return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
  });
  if (sentinels.length === 0) throw new ConfigError('REDIS_SENTINELS', 'must name at least one host:port');
  const name = optional(env, 'REDIS_SENTINEL_NAME');
  if (name === undefined) throw new ConfigError('REDIS_SENTINEL_NAME', 'must be set with REDIS_SENTINELS (the primary\'s name in the sentinels\' "sentinel monitor" line)');
  const target: RedisSentinelTarget = { sentinels, name };
  const sentinelPassword = optional(env, 'REDIS_SENTINEL_PASSWORD');
  const password = optional(env, 'REDIS_PASSWORD');
  if (sentinelPassword !== undefined) target.sentinelPassword = sentinelPassword;
  if (password !== undefined) target.password = password;
  return target;
}

function parseHostKeyPolicy(env: Env): HostKeyPolicy {
  const policy = optional(env, 'SSH_HOST_KEY_POLICY') ?? 'tofu';
  if (!isHostKeyPolicy(policy)) throw new ConfigError('SSH_HOST_KEY_POLICY', `must be ${HOST_KEY_POLICIES.slice(0, -1).join(', ')} or ${HOST_KEY_POLICIES.at(-1)}`);
  return policy;
}

/** Documented as the configuration server's IP address (the agent's /CSEndPoint and -i take an address). */
function parseCsEndpoint(env: Env): string | undefined {
  const csEndpoint = optional(env, 'CS_ENDPOINT');
  if (csEndpoint !== undefined && isIP(csEndpoint) === 0) {
    throw new ConfigError('CS_ENDPOINT', `must be the configuration server's IPv4 or IPv6 address, got "${csEndpoint}"`);
  }
  return csEndpoint;
}

/** METRICS_PORT: for processes without the api role only (the API serves /metrics itself). */
function parseMetricsPort(env: Env, roles: Role[]): number | null {
  if (optional(env, 'METRICS_PORT') === undefined) return null;
  if (roles.includes('api')) throw new ConfigError('METRICS_PORT', 'is for processes without the api role (ROLES=worker): the API serves /metrics on PORT itself');
  return integer(env, 'METRICS_PORT', 0, 0, 65535);
}

/** Builds the one validated configuration object; a bad value throws a ConfigError naming the variable. */
export function loadConfig(processEnv: Env = process.env, cwd = process.cwd(), stdoutIsTty = process.stdout.isTTY === true): Config {
  const env: Env = { ...readDotEnv(path.join(cwd, '.env')), ...processEnv };
  const resolve = (p: string): string => path.resolve(cwd, p);

  const roles = parseRoles(env);
  const host = optional(env, 'HOST') ?? '127.0.0.1';
  const redisUrl = optional(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  }
  const dataDir = resolve(optional(env, 'DATA_DIR') ?? './data');
  const processServerId = optional(env, 'PROCESS_SERVER_ID') ?? 'cs';
  if (!PS_ID.test(processServerId)) {
    throw new ConfigError('PROCESS_SERVER_ID', 'must be 1-63 letters, digits, dot, dash or underscore');
  }
  const csVersion = optionalVersion(env, 'CS_VERSION');
  const processServerVersion = optionalVersion(env, 'PROCESS_SERVER_VERSION');
  const csEndpoint = parseCsEndpoint(env);
  const csPassphraseFile = optional(env, 'CS_PASSPHRASE_FILE');
  const logLevel = optional(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const hostKeyPolicy = parseHostKeyPolicy(env);
  const logFormat = optional(env, 'LOG_FORMAT') ?? (stdoutIsTty ? 'pretty' : 'json');
  if (!isLogFormat(logFormat)) throw new ConfigError('LOG_FORMAT', `must be pretty or json, got "${logFormat}"`);

  return {
    host,
    port: integer(env, 'PORT', 8080, 0, 65535),
    metricsPort: parseMetricsPort(env, roles),
    roles,
    redisUrl,
    redisSentinel: parseSentinel(env, redisUrl),
    dataDir,
    repositoryDir: resolve(optional(env, 'REPOSITORY_DIR') ?? './repository'),
    processServerId,
    csEndpoint,
    csPassphraseFile: csPassphraseFile === undefined ? undefined : resolve(csPassphraseFile),
    csVersion,
    processServerVersion,
    vaultKeyFile: resolve(optional(env, 'VAULT_KEY_FILE') ?? path.join(dataDir, 'vault.key')),
    apiTokensFile: resolve(optional(env, 'API_TOKENS_FILE') ?? path.join(dataDir, 'tokens.json')),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 16, 1, 1000),
    logLevel,
    logFormat,
    jobRetries: integer(env, 'JOB_RETRIES', 3, 0, 20),
    jobBackoffMs: integer(env, 'JOB_BACKOFF_MS', 5000, 0, 3_600_000),
    jobLockMs: integer(env, 'JOB_LOCK_MS', 30_000, 1000, 3_600_000),
    stepTimeoutSec: integer(env, 'STEP_TIMEOUT_SEC', 1800, 1, 86_400),
    shutdownGraceSec: integer(env, 'SHUTDOWN_GRACE_SEC', 30, 0, 3600),
    connectTimeoutMs: integer(env, 'CONNECT_TIMEOUT_MS', 15000, 100, 600_000),
    accountLockoutThreshold: integer(env, 'ACCOUNT_LOCKOUT_THRESHOLD', 3, 1, 100),
    hostKeyPolicy,
    globalConcurrency: integer(env, 'GLOBAL_CONCURRENCY', 0, 0, 100_000),
    processServerConcurrency: integer(env, 'PROCESS_SERVER_CONCURRENCY', 0, 0, 100_000),
    repositorySettleMs: integer(env, 'REPOSITORY_SETTLE_MS', 2000, 0, 600_000),
    jobRetentionDays: decimal(env, 'JOB_RETENTION_DAYS', 30, 36_500),
  };
}
