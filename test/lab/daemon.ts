// Runs the daemon for a test, in this process, against the lab's Redis, with one token per role and a
// configuration server passphrase, and collects its (redacted) log lines for secret scans. Tests talk
// to it through the typed API client (`client`, or `api` for any request whatever its answer).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TOKEN_ROLES, TokenStore, type TokenRole } from '../../src/api/tokens.ts';
import type { JobView } from '../../src/api/views.ts';
import { ApiClient, ApiError, type ApiResponse, type HttpMethod } from '../../src/client/api-client.ts';
import { isFinal } from '../../src/domain/job.ts';
import { loadConfig } from '../../src/config.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logging/logger.ts';

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  tokens: Record<TokenRole, string>;
  /** The API as admin; `client.withToken(tokens.operator)` for another role. */
  client: ApiClient;
  passphrase: string;
  dataDir: string;
  repositoryDir: string;
  logs: string[];
  /** Any request (admin token unless given; null: none), answered whatever its status. */
  api<T = unknown>(method: HttpMethod, url: string, body?: unknown, token?: string | null): Promise<ApiResponse<T>>;
  /** Sees every API exchange of `client` and `api` from now on (e.g. to scan responses for secrets). */
  observe(observer: (method: HttpMethod, path: string, response: ApiResponse) => void): void;
  stop(): Promise<void>;
}

export interface TestDaemonOptions {
  redisUrl: string;
  repositoryDir?: string;
  env?: Record<string, string>;
  passphrase?: string;
  /** Re-use the data dir (tokens, vault key, passphrase) of another daemon: a second process server (its tokens stay empty; call the first daemon's API). */
  dataDir?: string;
}

export async function startTestDaemon(opts: TestDaemonOptions): Promise<TestDaemon> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'pi-daemon-'));
  const ownsData = opts.dataDir === undefined;
  const repositoryDir = opts.repositoryDir ?? path.join(dataDir, 'repository');
  mkdirSync(repositoryDir, { recursive: true });
  const passphraseFile = path.join(dataDir, 'cs.passphrase');
  const tokens: Record<TokenRole, string> = { admin: '', portal: '', operator: '' };
  let passphrase: string;
  if (ownsData) {
    passphrase = opts.passphrase ?? `CsPass-${randomBytes(12).toString('hex')}`;
    writeFileSync(passphraseFile, passphrase + '\n', { mode: 0o600 });
    const tokenStore = new TokenStore(path.join(dataDir, 'tokens.json'));
    for (const role of TOKEN_ROLES) tokens[role] = tokenStore.add(`test-${role}`, role);
  } else {
    // Another process server of the same deployment: same tokens, vault key and passphrase.
    passphrase = readFileSync(passphraseFile, 'utf8').trim();
  }
  const config = loadConfig({
    HOST: '127.0.0.1', PORT: '0', REDIS_URL: opts.redisUrl, DATA_DIR: dataDir, REPOSITORY_DIR: repositoryDir,
    CS_ENDPOINT: '10.0.0.4', CS_VERSION: '9.99.0.0', CS_PASSPHRASE_FILE: passphraseFile, CONNECT_TIMEOUT_MS: '5000', JOB_BACKOFF_MS: '200',
    LOG_LEVEL: 'info', ...opts.env,
  }, dataDir);
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => { logs.push(line); } });
  const daemon = await startDaemon(config, logger);
  const url = daemon.url ?? '';
  const observers: Array<Parameters<TestDaemon['observe']>[0]> = [];
  const client = new ApiClient({ baseUrl: url, token: tokens.admin, onResponse: (...a) => { for (const o of observers) o(...a); } });
  return {
    daemon, url, tokens, passphrase, dataDir, repositoryDir, logs, client,
    api: (method, route, body, token = tokens.admin) => client.withToken(token).raw(method, route, body),
    observe: (observer) => { observers.push(observer); },
    async stop() {
      await daemon.stop();
      if (ownsData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a job until it reaches a final state (riding out a 503 while Redis restarts). */
export async function waitForJob<T extends { state: string } = JobView>(d: { client: ApiClient }, id: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: JobView | ApiError | undefined;
  while (Date.now() < deadline) {
    last = await d.client.getJob(id).catch((e: unknown) => { if (e instanceof ApiError && e.status === 503) return e; throw e; });
    if (!(last instanceof ApiError) && isFinal(last.state)) return last as unknown as T;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not end within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}
