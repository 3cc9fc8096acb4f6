// Runs the daemon for a test, in this process, against the lab's Redis, with one token per role and a
// configuration server passphrase, and collects its (redacted) log lines for secret scans.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenStore } from '../../src/api/tokens.ts';
import { loadConfig } from '../../src/config.ts';
import { startDaemon, type Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/logging/logger.ts';

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  tokens: { admin: string; portal: string; operator: string };
  passphrase: string;
  dataDir: string;
  repositoryDir: string;
  logs: string[];
  api<T = unknown>(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T; text: string; headers: Headers }>;
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
  const tokens = { admin: '', portal: '', operator: '' };
  let passphrase: string;
  if (ownsData) {
    passphrase = opts.passphrase ?? `CsPass-${randomBytes(12).toString('hex')}`;
    writeFileSync(passphraseFile, passphrase + '\n', { mode: 0o600 });
    const tokenStore = new TokenStore(path.join(dataDir, 'tokens.json'));
    for (const role of ['admin', 'portal', 'operator'] as const) tokens[role] = tokenStore.add(`test-${role}`, role);
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
  return {
    daemon, url, tokens, passphrase, dataDir, repositoryDir, logs,
    async api(method, route, body, token = tokens.admin) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + route, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = JSON.parse(text); } catch { /* text */ }
      return { status: res.status, body: parsed as never, text, headers: res.headers };
    },
    async stop() {
      await daemon.stop();
      if (ownsData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls a job until it reaches a final state. */
export async function waitForJob<T extends { state: string }>(d: TestDaemon, id: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    const res = await d.api<T>('GET', `/api/v1/jobs/${id}`);
    last = res.body;
    if (['Succeeded', 'Warning', 'Failed', 'Cancelled'].includes(res.body.state)) return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not end within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}
