// Shared set-up for the end-to-end tests: a Redis, a daemon, a repository of test installers, and
// helpers to create run-as accounts and submit jobs through the HTTP API.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SubmittedJob } from '../../src/api/views.ts';
import type { AccountCreate } from '../../src/client/api-client.ts';
import type { MachineRequest } from '../../src/domain/job.ts';
import { startTestDaemon, waitForJob, type TestDaemon, type TestDaemonOptions } from '../lab/daemon.ts';
import { buildLinuxInstaller, installerFileName } from '../lab/installers.ts';
import type { Cluster } from '../lab/cluster.ts';
import type { LinuxGuest } from '../lab/linux-guest.ts';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';
import { copyFileSync } from 'node:fs';

export interface JobBody {
  id: string;
  state: string;
  type: string;
  agentVersion?: string;
  installer?: { file: string; sha256: string };
  tasks: Array<{ name: string; state: string; message?: string; errors: ErrorBody[] }>;
  errors: ErrorBody[];
  attempts: number;
  allowedActions: string[];
  machine: { machineId: string };
}
export interface ErrorBody { code: number; message: string; possibleCauses: string; recommendedAction: string; retryable: boolean; details?: Record<string, unknown> }

export interface Lab {
  redis: LabRedis;
  daemon: TestDaemon;
  repo: string;
  stop(): Promise<void>;
}

/** Builds installers (one tarball per version) and copies them under each tag's name. */
/** A new installer repository folder (under a temp dir named after `prefix`) holding the given installers. */
export async function newRepository(prefix: string, entries: Array<{ tag: string; version: string; padMiB?: number }>): Promise<string> {
  const repo = path.join(mkdtempSync(path.join(tmpdir(), `pi-${prefix}-`)), 'repository');
  mkdirSync(repo, { recursive: true });
  await fillRepository(repo, entries);
  return repo;
}

export async function fillRepository(repo: string, entries: Array<{ tag: string; version: string; padMiB?: number }>): Promise<void> {
  const built = new Map<string, string>();
  for (const e of entries) {
    const key = `${e.version}:${e.padMiB ?? 0}`;
    let src = built.get(key);
    if (!src) {
      src = await buildLinuxInstaller(path.join(repo, '..', `src-${e.version}-${e.padMiB ?? 0}.tar.gz`), e.version, { padMiB: e.padMiB ?? 0 });
      built.set(key, src);
    }
    copyFileSync(src, path.join(repo, installerFileName(e.version, e.tag)));
  }
}

export async function startLab(opts: { installers?: Array<{ tag: string; version: string; padMiB?: number }>; env?: Record<string, string>; daemon?: Partial<TestDaemonOptions> } = {}): Promise<Lab> {
  const redis = await startLabRedis();
  const base = mkdtempSync(path.join(tmpdir(), 'pi-lab-'));
  const repo = path.join(base, 'repository');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(repo, { recursive: true });
  await fillRepository(repo, opts.installers ?? []);
  const daemon = await startTestDaemon({ redisUrl: redis.url, repositoryDir: repo, env: { REPOSITORY_SETTLE_MS: '200', ...opts.env }, ...opts.daemon });
  await waitForInstallers(daemon, (opts.installers ?? []).length);
  return {
    redis, daemon, repo,
    async stop() {
      await daemon.stop();
      await redis.stop();
      const { rmSync } = await import('node:fs');
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Waits until the repository offers `count` installers (fresh files settle first). */
export async function waitForInstallers(d: TestDaemon, count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await d.client.listInstallers()).installers.length >= count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the repository did not offer ${count} installers within ${timeoutMs} ms`);
}

export async function createLinuxAccount(d: TestDaemon, user: { name: string; password: string }, extra: Partial<AccountCreate> = {}): Promise<string> {
  const account = await d.client.createAccount({ name: `acct-${user.name}-${Math.random().toString(36).slice(2, 7)}`, osFamily: 'linux', username: user.name, password: user.password, ...extra });
  return account.id;
}

export function machineFor(guest: LinuxGuest, accountId: string, extra: Partial<MachineRequest> = {}): MachineRequest {
  return { machineId: `vm-${guest.name}`, address: guest.address, port: guest.port, os: { family: 'linux' }, runAsAccountId: accountId, ...extra };
}

export async function enable(d: TestDaemon, machines: MachineRequest[], token?: string): Promise<SubmittedJob[]> {
  return (token ? d.client.withToken(token) : d.client).enableReplication(machines);
}

/** Submits one machine and waits for its job to end. */
export async function push(d: TestDaemon, machine: MachineRequest, timeoutMs = 60_000): Promise<JobBody> {
  const [job] = await enable(d, [machine]);
  return waitForJob<JobBody>(d, (job as SubmittedJob).id, timeoutMs);
}

export function task(job: JobBody, name: string): JobBody['tasks'][number] {
  const t = job.tasks.find((x) => x.name === name);
  if (!t) throw new Error(`job has no task ${name}`);
  return t;
}

/** Polls `fn` until it returns something truthy (then returns it), or fails after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export { waitForJob };
export { dumpRedis } from '../lab/redis-dump.ts';

/** The final job states. */
export const FINAL = ['Succeeded', 'Warning', 'Failed', 'Cancelled'];

/** A run-as account for the guest's root user, created through a cluster's API process. */
export async function createClusterAccount(cluster: Cluster, guest: LinuxGuest): Promise<string> {
  return (await cluster.client.createAccount({ name: 'root', osFamily: 'linux', username: guest.users.root.name, password: guest.users.root.password })).id;
}

/**
 * Waits until every job (read through the cluster's API) has ended; returns them. A 503 ("the job store
 * is unreachable; retry shortly", as while Redis fails over or restarts) is read again, as a client would.
 */
export function clusterJobsEnded<J extends { state: string }>(cluster: Cluster, ids: string[], timeoutMs: number): Promise<J[]> {
  return until(`all ${ids.length} jobs to end`, async () => {
    let all: J[];
    try {
      all = await Promise.all(ids.map(async (id) => (await cluster.client.getJob(id)) as unknown as J));
    } catch (e) {
      if ((e as { status?: number }).status === 503) return undefined;
      throw e;
    }
    return all.every((j) => FINAL.includes(j.state)) ? all : undefined;
  }, timeoutMs);
}
