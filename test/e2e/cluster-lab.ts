// A cluster of daemon processes on one lab Redis, with a repository, Linux guests and one run-as
// account created through the API process (the workers decrypt it with the shared vault key).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startCluster, type Cluster } from '../lab/cluster.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';
import { startLabRedis, type LabRedis } from '../lab/redis.ts';
import { newRepository, until, type JobBody } from './fixtures.ts';

export const FINAL = ['Succeeded', 'Warning', 'Failed', 'Cancelled'];

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

export async function startClusterLab(opts: { name: string; guests: number; installSleep: number; env: Record<string, string> }): Promise<ClusterLab> {
  const redis = await startLabRedis();
  const repo = await newRepository(opts.name, [{ tag: 'UBUNTU-20.04-64', version: '9.30.0.0' }]);
  const cluster = await startCluster({ redisUrl: redis.url, env: opts.env });
  const guests = await Promise.all(Array.from({ length: opts.guests }, (_, i) => createLinuxGuest({ name: `${opts.name}${i}`, behaviour: { passphrase: cluster.passphrase, installSleep: opts.installSleep } })));
  const root = (guests[0] as LinuxGuest).users.root;
  const res = await cluster.client.raw<{ id: string }>('POST', '/api/v1/run-as-accounts', { name: 'root', osFamily: 'linux', username: root.name, password: root.password });
  assert.equal(res.status, 201);
  const get = async (id: string) => (await cluster.client.raw<JobBody>('GET', `/api/v1/jobs/${id}`)).body;
  return {
    redis, cluster, repo, account: res.body.id, guests, get,
    allFinal: (ids, timeoutMs = 90_000) => until('every job to end', async () => { const all = await Promise.all(ids.map(get)); return all.every((j) => FINAL.includes(j.state)) ? all : undefined; }, timeoutMs),
    async stop() {
      await cluster.stop();
      await Promise.all(guests.map((g) => g.destroy()));
      await redis.stop();
      rmSync(path.dirname(repo), { recursive: true, force: true });
    },
  };
}
