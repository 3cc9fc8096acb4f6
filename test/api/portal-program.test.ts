// A portal's program, written only against the types generated from the OpenAPI document
// (src/client/openapi.ts) and the client built on them: account, enable on two machines, poll, list,
// log, cancel, restart, repository. It reads job.state, job.tasks[].errors[].code and
// recommendedAction with no undefined guard and no cast: strict tsc compiling this file is the check.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../../src/client/api-client.ts';
import type { components } from '../../src/client/openapi.ts';
import { startApiHarness, type ApiHarness } from './harness.ts';
import { checkResponse } from './openapi-check.ts';

type Job = components['schemas']['Job'];

/** What a portal shows of a job: its state, and per task each error's code and what to do. */
function summarize(job: Job): string[] {
  const lines = [`${job.machine.machineId}: ${job.state} (${job.type}, ${job.tasks.length} tasks)`];
  for (const task of job.tasks) {
    for (const error of task.errors) lines.push(`  ${task.name} ${task.state}: ${error.code} ${error.message} → ${error.recommendedAction}`);
  }
  for (const error of job.errors) lines.push(`  ${error.code}${error.retryable ? ' (retryable)' : ''}: ${error.recommendedAction}`);
  return lines;
}

describe('a portal program on the generated types', () => {
  let api: ApiHarness;
  let portal: ApiClient;
  let admin: ApiClient;

  before(async () => {
    api = await startApiHarness();
    const baseUrl = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const onResponse = (method: string, path: string, res: { status: number; headers: Headers; text: string }) =>
      checkResponse({ method, url: path, status: res.status, contentType: res.headers.get('content-type') ?? undefined, text: res.text });
    admin = new ApiClient({ baseUrl, token: api.tokens.admin, onResponse });
    portal = admin.withToken(api.tokens.portal);
  });
  after(async () => { await api?.stop(); });

  it('account, enable on two machines, poll, list, log, cancel, restart, repository', async () => {
    const account = await admin.createAccount({ name: 'portal linux', osFamily: 'linux', username: 'root', password: 'portal-Pa55' });
    const submitted = await portal.enableReplication(['vm-p1', 'vm-p2'].map((machineId, i) => ({
      machineId, address: `10.4.0.${i + 1}`, os: { family: 'linux' as const }, runAsAccountId: account.id,
    })));
    assert.deepEqual(submitted.map((s) => [s.machineId, s.state, s.statusCode]), [['vm-p1', 'NotStarted', 202], ['vm-p2', 'NotStarted', 202]]);

    const [first, second] = await Promise.all(submitted.map((s) => portal.getJob(s.id)));
    assert.ok(first && second);
    assert.deepEqual(summarize(first), ['vm-p1: NotStarted (enable-replication, 5 tasks)']);
    assert.deepEqual(first.tasks.map((t) => [t.name, t.state, t.errors.length]).slice(0, 2), [['CopyInstaller', 'NotStarted', 0], ['PrerequisiteCheck', 'NotStarted', 0]]);

    const page = await portal.listJobs({ state: 'NotStarted', limit: 10 });
    assert.deepEqual(page.jobs.map((j) => j.machine.machineId).sort(), ['vm-p1', 'vm-p2']);
    assert.equal(typeof (await portal.jobLog(first.id)), 'string');

    const cancelled = await portal.cancelJob(second.id);
    assert.equal(cancelled.state, 'Cancelled');
    assert.deepEqual(cancelled.allowedActions, ['Restart']);
    const restarted = await portal.restartJob(second.id);
    assert.equal(restarted.created, true);
    assert.equal((await portal.getJob(restarted.id)).state, 'NotStarted');

    const repository = await portal.listInstallers();
    assert.deepEqual([repository.installers.length, repository.rejected.length], [0, 0]);
  });

  it('reads errors with their code and recommended action', () => {
    const error = { code: 95107, message: 'wrong password', possibleCauses: 'the password changed', recommendedAction: 'update the run-as account', retryable: false };
    const job: Job = {
      id: 'j', type: 'enable-replication', machine: { machineId: 'vm', displayName: 'vm', address: '10.0.0.1', os: { family: 'linux' } },
      processServerId: 'cs', runAsAccountId: 'a', state: 'Failed', attempts: 1, createdAt: '2026-01-01T00:00:00.000Z', allowedActions: ['Restart'],
      tasks: [{ name: 'CopyInstaller', state: 'Failed', errors: [error] }], errors: [error],
    };
    assert.deepEqual(summarize(job), [
      'vm: Failed (enable-replication, 1 tasks)',
      '  CopyInstaller Failed: 95107 wrong password → update the run-as account',
      '  95107: update the run-as account',
    ]);
  });
});
