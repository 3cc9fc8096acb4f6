// A cluster of daemon processes on one lab Redis, with a repository, Linux guests and one run-as
// account created through the API process (the workers decrypt it with the shared vault key).
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startCluster, type Cluster } from '../lab/cluster.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';
import { clusterJobsEnded, createClusterAccount, newRepository, type JobBody } from './fixtures.ts';

export { FINAL } from './fixtures.ts';

export interface ClusterLab {
  redis: LabRedis;
  cluster: Cluster;
  repo: string;
  account: string;
  guests: LinuxGuest[];
  get(id: string): Promise<JobBody>;
  /** Waits until every job is final; returns them in order. */
  allFinal(ids: string[], timeoutMs?: number): Promise<JobBody[]>;
  stop(): Promise<void>;
}

/** `padMiB`: padding of the installer (a slower copy). */
export async function startClusterLab(opts: { name: string; guests: number; installSleep: number; env: Record<string, string>; padMiB?: number }): Promise<ClusterLab> {
  const redis = await startLabRedis();
  const repo = await newRepository(opts.name, [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0', ...(opts.padMiB !== undefined ? { padMiB: opts.padMiB } : {}) }]);
  const cluster = await startCluster({ redisUrl: redis.url, env: opts.env });
  const guests = await Promise.all(Array.from({ length: opts.guests }, (_, i) => createLinuxGuest({ name: `${opts.name}${i}`, behaviour: { passphrase: cluster.passphrase, installSleep: opts.installSleep } })));
  // The account is created through the API process (the workers decrypt it with the shared vault key).
  const account = await createClusterAccount(cluster, guests[0] as LinuxGuest);
  const get = async (id: string) => (await cluster.client.raw<JobBody>('GET', `/api/v1/jobs/${id}`)).body;
  return {
    redis, cluster, repo, account, guests, get,
    allFinal: (ids, timeoutMs = 90_000) => clusterJobsEnded<JobBody>(cluster, ids, timeoutMs),
    async stop() {
      await cluster.stop();
      await Promise.all(guests.map((g) => g.destroy()));
      await redis.stop();
      rmSync(path.dirname(repo), { recursive: true, force: true });
    },
  };
}
