// Several daemon processes against one Redis: an API process and worker processes (process servers),
// sharing a data dir (tokens, vault key) as a deployment would share them.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenStore } from '../../src/api/tokens.ts';
import { ApiClient } from '../../src/client/api-client.ts';
import { freePort, spawnDaemon, type DaemonProcess } from './daemon-process.ts';

export interface Cluster {
  url: string;
  token: string;
  passphrase: string;
  dataDir: string;
  api: DaemonProcess;
  workers: DaemonProcess[];
  /** Starts a worker process for a process server (its own repository dir). */
  startWorker(processServerId: string, repositoryDir: string, env?: Record<string, string>): Promise<DaemonProcess>;
  /** The API process, as admin. */
  client: ApiClient;
  /** Spawns a worker process without waiting for it to start (it may refuse to). */
  spawnWorker(processServerId: string, repositoryDir: string, env?: Record<string, string>): DaemonProcess;
  stop(): Promise<void>;
}

export async function startCluster(opts: { redisUrl: string; env?: Record<string, string> }): Promise<Cluster> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pi-cluster-'));
  const token = new TokenStore(path.join(dataDir, 'tokens.json')).add('cluster-admin', 'admin');
  const passphrase = `CsPass-${randomBytes(10).toString('hex')}`;
  writeFileSync(path.join(dataDir, 'cs.passphrase'), passphrase + '\n', { mode: 0o600 });
  const common = {
    REDIS_URL: opts.redisUrl, DATA_DIR: dataDir, CS_ENDPOINT: '10.0.0.4', CS_VERSION: '9.99.0.0', CS_PASSPHRASE_FILE: path.join(dataDir, 'cs.passphrase'),
    CONNECT_TIMEOUT_MS: '5000', JOB_BACKOFF_MS: '300', REPOSITORY_SETTLE_MS: '200', LOG_LEVEL: 'info', ...opts.env,
  };
  const port = await freePort();
  const emptyRepo = path.join(dataDir, 'api-repository');
  mkdirSync(emptyRepo);
  const api = spawnDaemon({ ...common, ROLES: 'api', PORT: String(port), REPOSITORY_DIR: emptyRepo });
  await api.waitFor(/API listening/);
  const url = `http://127.0.0.1:${port}`;
  const workers: DaemonProcess[] = [];
  const cluster: Cluster = {
    url, token, passphrase, dataDir, api, workers, client: new ApiClient({ baseUrl: url, token }),
    spawnWorker(processServerId, repositoryDir, env = {}) {
      const w = spawnDaemon({ ...common, ROLES: 'worker', PROCESS_SERVER_ID: processServerId, REPOSITORY_DIR: repositoryDir, ...env });
      workers.push(w);
      return w;
    },
    async startWorker(processServerId, repositoryDir, env = {}) {
      const w = cluster.spawnWorker(processServerId, repositoryDir, env);
      await w.waitFor(/worker started/);
      return w;
    },
    async stop() {
      for (const p of [...workers, api]) {
        if (p.child.exitCode === null && p.child.signalCode === null) { p.kill('SIGTERM'); }
      }
      await Promise.all([...workers, api].map((p) => Promise.race([p.exited(), new Promise((r) => setTimeout(r, 15_000))])));
      for (const p of [...workers, api]) if (p.child.exitCode === null && p.child.signalCode === null) p.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return cluster;
}
