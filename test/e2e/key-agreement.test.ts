// Vault key agreement with real processes: every "host" has its own copy of the key file. A worker
// whose key is not the cluster's refuses to start (exit 2, one line); a key rotated on one host pauses
// the other host's worker (readyz 503 with the reason, metric 0, a warning) without failing a job, and
// it resumes by itself once its key file holds the new key.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { rotateVaultKey } from '../../src/accounts/rotate-key.ts';
import { readVaultKeys } from '../../src/accounts/vault-key.ts';
import type { ProcessServerView } from '../../src/jobs/process-server-admin.ts';
import type { Cluster } from '../lab/cluster.ts';
import { startClusterLab, type ClusterLab } from './cluster-lab.ts';
import { machineFor, until } from './fixtures.ts';

/** A key file of another host: a copy of `from` (or none yet: the daemon creates its own). */
function hostKeyFile(from?: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pi-host-')), 'vault.key');
  if (from) { copyFileSync(from, file); chmodSync(file, 0o600); }
  return file;
}

describe('vault key agreement across hosts', () => {
  let lab: ClusterLab;
  let cluster: Cluster;
  let keyFileA: string;

  before(async () => {
    // Installs of 4 s: host A must still have jobs to run (and some left queued) when it is stopped after
    // the rotation, or nothing is left to show that the paused worker takes no job.
    lab = await startClusterLab({ name: 'ka', guests: 6, installSleep: 4, env: { WORKER_CONCURRENCY: '2', SHUTDOWN_GRACE_SEC: '20' } });
    cluster = lab.cluster;
    keyFileA = path.join(cluster.dataDir, 'vault.key');
  });

  after(async () => { await lab?.stop(); });

  const get = (id: string) => lab.get(id);

  it('a second worker of the process server with its own key refuses to start: exit 2, one line naming VAULT_KEY_FILE, the expected key id and how to copy it', async () => {
    await cluster.startWorker('cs', lab.repo);
    const file = hostKeyFile();
    const w = cluster.spawnWorker('cs', lab.repo, { VAULT_KEY_FILE: file });
    const exit = await w.exited();
    assert.equal(exit.code, 2, w.output().slice(-2000));
    const expected = readVaultKeys(keyFileA)[0]?.id as string;
    const own = readVaultKeys(file)[0]?.id as string;
    const lines = w.output().split('\n').filter((l) => l.startsWith('pushinstalld:'));
    assert.equal(lines.length, 1, w.output());
    assert.equal(lines[0], `pushinstalld: VAULT_KEY_FILE ${file} holds vault key ${own} but this cluster's active key is ${expected}: ` +
      `copy the key file from a host whose daemon runs (e.g. scp <that-host>:${file} ${file} && chmod 600 ${file})`);
    assert.doesNotMatch(w.output(), /worker started/);
  });

  it('a key rotated on one host: the other host\'s worker pauses (readyz 503, metric 0, warning), no job fails, all complete once its key file is updated', async () => {
    const workerA = cluster.workers[0];
    const keyFileB = hostKeyFile(keyFileA);
    const b = cluster.spawnWorker('cs', lab.repo, { VAULT_KEY_FILE: keyFileB, ROLES: 'api,worker', PORT: '0' });
    await b.waitFor(/worker started/);
    const urlB = /"url":"(http[^"]+)"/.exec(await b.waitFor(/"url":"http[^"]+"/))?.[1] as string;
    const callB = (route: string) => fetch(urlB + route, { headers: { authorization: `Bearer ${cluster.token}` } });

    const sub = await cluster.client.raw<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/replication/enable', { machines: lab.guests.map((g) => machineFor(g, lab.account)) });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const ids = sub.body.jobs.map((j) => j.id);
    await until('an install to run', async () => (await Promise.all(ids.map(get))).some((j) => j.tasks.find((t) => t.name === 'InstallMobilityService')?.state === 'InProgress'));

    const admin = new Redis(lab.redis.url);
    const rotation = rotateVaultKey(admin, keyFileA, () => undefined, 2500);
    await b.waitFor(/vault key mismatch, taking no job/, 15_000);
    // Host A stops (its running jobs finish within the grace): only the paused worker of host B is left.
    workerA?.kill('SIGTERM');
    const ready = await callB('/readyz');
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { checks: { vaultKey: string } }).checks.vaultKey, new RegExp(`^mismatch: VAULT_KEY_FILE ${keyFileB} holds vault key`));
    assert.match(await (await callB('/metrics')).text(), /^pushinstalld_vault_key_agreement 0$/m);
    // It seals no record under a key the cluster no longer uses.
    const write = await fetch(`${urlB}/api/v1/run-as-accounts`, {
      method: 'POST', headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'late', osFamily: 'linux', username: 'root', password: 'late-secret-1' }),
    });
    assert.equal(write.status, 503);
    assert.match(((await write.json()) as { message: string }).message, /^VAULT_KEY_FILE .* holds vault key/);
    const { newKeyId } = await rotation;
    admin.disconnect();
    const listed = await until('the mismatch to be listed', async () => {
      const [cs] = (await cluster.client.raw<{ processServers: ProcessServerView[] }>('GET', '/api/v1/process-servers')).body.processServers;
      return cs?.keyAgreement === 'mismatch' ? cs : undefined;
    });
    assert.equal(listed.workers.find((w) => w.pid === b.child.pid)?.keyAgreement, 'mismatch');

    await workerA?.exited();
    await new Promise((r) => setTimeout(r, 3000));
    const meanwhile = await Promise.all(ids.map(get));
    assert.deepEqual(meanwhile.filter((j) => j.state === 'Failed'), [], 'no job failed');
    assert.ok(meanwhile.every((j) => j.state === 'Succeeded' || j.state === 'NotStarted'), JSON.stringify(meanwhile.map((j) => j.state)));
    assert.ok(meanwhile.some((j) => j.state === 'NotStarted'), 'jobs are left for the paused worker');

    copyFileSync(keyFileA, keyFileB);
    await b.waitFor(/vault key agreement restored/, 15_000);
    assert.equal((await callB('/readyz')).status, 200);
    const done = await lab.allFinal(ids);
    assert.deepEqual(done.map((j) => j.state), Array(6).fill('Succeeded'), JSON.stringify(done.filter((j) => j.state !== 'Succeeded'), null, 2));
    assert.equal(readVaultKeys(keyFileB)[0]?.id, newKeyId);
  });
});
