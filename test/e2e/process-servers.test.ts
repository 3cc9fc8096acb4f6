// Process servers as things an operator manages (real worker processes): the list shows workers, queue
// depth, installers and key agreement; draining during a batch lets running jobs finish and starts no
// new one on that process server; resume (through the CLI) runs the rest. Unknown id 404, drain twice
// idempotent, an operator may read but not drain.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TokenStore } from '../../src/api/tokens.ts';
import type { ProcessServerView } from '../../src/jobs/process-server-admin.ts';
import type { Cluster } from '../lab/cluster.ts';
import { run } from '../lab/exec.ts';
import { FINAL, startClusterLab, type ClusterLab } from './cluster-lab.ts';
import { machineFor, until } from './fixtures.ts';

describe('process servers: list, drain, resume', () => {
  let lab: ClusterLab;
  let cluster: Cluster;

  before(async () => {
    lab = await startClusterLab({ name: 'ps', guests: 5, installSleep: 3, env: { WORKER_CONCURRENCY: '2', CS_VERSION: '9.30.0.0' } });
    cluster = lab.cluster;
    await cluster.startWorker('cs', lab.repo);
  });

  after(async () => { await lab?.stop(); });

  const get = (id: string) => lab.get(id);
  const list = async () => (await cluster.client.raw<{ processServers: ProcessServerView[] }>('GET', '/api/v1/process-servers')).body.processServers;

  it('lists the process server: its worker (host, pid), concurrency, queue depth, installers, key agreement, version', async () => {
    const [cs] = await until('the worker to publish its installers', async () => { const l = await list(); return l[0]?.installers.length ? l : undefined; });
    assert.equal(cs?.id, 'cs');
    assert.equal(cs?.drained, false);
    assert.equal(cs?.concurrency, 2);
    assert.equal(cs?.keyAgreement, 'agreed');
    assert.equal(cs?.version, '9.30.0.0');
    assert.deepEqual(cs?.installers.map((i) => i.version), ['9.30.0.0']);
    const worker = cs?.workers[0];
    assert.equal(worker?.pid, cluster.workers[0]?.child.pid);
    assert.equal(typeof worker?.host, 'string');
    assert.ok((worker?.heartbeatAgeSec ?? 99) < 15);
    assert.deepEqual(Object.keys(cs?.queue ?? {}).sort(), ['active', 'delayed', 'prioritized', 'waiting', 'waiting-children']);
  });

  it('an operator may read but not drain; an unknown id is 404', async () => {
    const operator = new TokenStore(path.join(cluster.dataDir, 'tokens.json')).add('ps-operator', 'operator');
    const headers = { authorization: `Bearer ${operator}` };
    assert.equal((await fetch(`${cluster.url}/api/v1/process-servers`, { headers })).status, 200);
    assert.equal((await fetch(`${cluster.url}/api/v1/process-servers/cs/drain`, { method: 'POST', headers })).status, 403);
    const unknown = await cluster.client.raw<{ message: string }>('POST', '/api/v1/process-servers/nope/drain');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /process server nope does not exist/);
    assert.equal((await cluster.client.raw('POST', '/api/v1/process-servers/nope/resume')).status, 404);
  });

  it('drain during a batch: running jobs finish, no new job starts; resume (CLI) runs the rest', async () => {
    const sub = await cluster.client.raw<{ jobs: Array<{ id: string }> }>('POST', '/api/v1/replication/enable', { machines: lab.guests.map((g) => machineFor(g, lab.account)) });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const ids = sub.body.jobs.map((j) => j.id);
    const running = await until('two installs to be running', async () => {
      const all = await Promise.all(ids.map(get));
      const r = all.filter((j) => j.tasks.find((t) => t.name === 'InstallMobilityService')?.state === 'InProgress');
      return r.length === 2 ? r.map((j) => j.id) : undefined;
    });
    const drained = await cluster.client.raw<ProcessServerView>('POST', '/api/v1/process-servers/cs/drain');
    assert.equal(drained.status, 200);
    assert.equal(drained.body.drained, true);
    const again = await cluster.client.raw<ProcessServerView>('POST', '/api/v1/process-servers/cs/drain');
    assert.equal(again.status, 200, 'draining twice is idempotent');
    assert.equal(again.body.drained, true);
    for (const id of running) assert.equal((await until(`job ${id} to end`, async () => { const j = await get(id); return FINAL.includes(j.state) ? j : undefined; })).state, 'Succeeded');
    // Long enough for a worker that still took jobs to have started the next ones.
    await new Promise((r) => setTimeout(r, 4000));
    const waiting = (await Promise.all(ids.map(get))).filter((j) => !running.includes(j.id));
    assert.deepEqual(waiting.map((j) => [j.state, j.attempts]), [['NotStarted', 0], ['NotStarted', 0], ['NotStarted', 0]], 'no new job started while drained');
    const [cs] = await list();
    assert.equal(cs?.drained, true);
    assert.equal(cs?.queue.active, 0);
    assert.equal(cs?.queue.waiting, 3);

    const res = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'process-servers', 'resume', 'cs'], {
      env: { ...process.env, PUSHINSTALLD_URL: cluster.url, PUSHINSTALLD_TOKEN: cluster.token, DATA_DIR: cluster.dataDir },
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as ProcessServerView).drained, false);
    const done = await lab.allFinal(ids, 60_000);
    assert.deepEqual(done.map((j) => j.state), Array(5).fill('Succeeded'));
  });
});
