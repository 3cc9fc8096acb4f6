// The API contract without guests: authentication and roles, bad bodies (400 naming the field, nothing
// stored), accounts that never return secrets, 404/409s, health and OpenAPI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { dumpRedis, startLab, type Lab } from './fixtures.ts';

describe('API contract', () => {
  let lab: Lab;
  let linuxAccount: string;
  const secret = 'Secret-Pa55word-"quoted"-&-%';

  before(async () => {
    lab = await startLab();
    const res = await lab.daemon.api<{ id: string }>('POST', '/api/v1/run-as-accounts', { name: 'linux root', osFamily: 'linux', username: 'root', password: secret });
    assert.equal(res.status, 201);
    linuxAccount = res.body.id;
  });
  after(async () => { await lab?.stop(); });

  const machine = (extra: Record<string, unknown> = {}) => ({ machineId: 'vm-1', address: '10.1.2.3', os: { family: 'linux' }, runAsAccountId: linuxAccount, ...extra });

  it('health needs no token; readyz checks Redis, the repository and the vault key agreement', async () => {
    assert.equal((await lab.daemon.api('GET', '/healthz', undefined, null)).status, 200);
    const ready = await lab.daemon.api<{ status: string; checks: Record<string, string> }>('GET', '/readyz', undefined, null);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { redis: 'ok', repository: 'ok', vaultKey: 'ok' });
  });

  it('401 without or with an unknown token, 403 for a role that may not', async () => {
    const none = await lab.daemon.api<{ message: string }>('GET', '/api/v1/jobs', undefined, null);
    assert.equal(none.status, 401);
    assert.match(none.body.message, /missing bearer token/);
    assert.equal((await lab.daemon.api('GET', '/api/v1/jobs', undefined, 'pit_not-a-token')).status, 401);
    const { tokens } = lab.daemon;
    assert.equal((await lab.daemon.api('POST', '/api/v1/run-as-accounts', { name: 'x', osFamily: 'linux', username: 'root', password: 'pw12345' }, tokens.portal)).status, 403);
    assert.equal((await lab.daemon.api('POST', '/api/v1/run-as-accounts', { name: 'x', osFamily: 'linux', username: 'root', password: 'pw12345' }, tokens.operator)).status, 403);
    assert.equal((await lab.daemon.api('GET', '/api/v1/run-as-accounts', undefined, tokens.portal)).status, 403);
    assert.equal((await lab.daemon.api('GET', '/api/v1/run-as-accounts', undefined, tokens.operator)).status, 200);
    assert.equal((await lab.daemon.api('POST', '/api/v1/replication/enable', { machines: [machine()] }, tokens.operator)).status, 403);
    assert.equal((await lab.daemon.api('GET', '/api/v1/jobs', undefined, tokens.operator)).status, 200);
  });

  const badBodies: Array<[string, () => unknown, string]> = [
    ['no machines', () => ({}), 'machines'],
    ['empty machines', () => ({ machines: [] }), 'machines'],
    ['unknown top-level property', () => ({ machines: [machine()], priority: 1 }), 'priority'],
    ['missing address', () => ({ machines: [{ ...machine(), address: undefined }] }), 'machines[0].address'],
    ['shell metacharacters in the address', () => ({ machines: [machine({ address: '10.0.0.1;reboot' })] }), 'machines[0].address'],
    ['bad OS family', () => ({ machines: [machine({ os: { family: 'aix' } })] }), 'machines[0].os.family'],
    ['unknown property in a machine', () => ({ machines: [machine({ colour: 'red' })] }), 'machines[0].colour'],
    ['port out of range', () => ({ machines: [machine({ port: 70000 })] }), 'machines[0].port'],
    ['port as a string', () => ({ machines: [machine({ port: '22' })] }), 'machines[0].port'],
    ['unknown OS tag', () => ({ machines: [machine({ os: { family: 'linux', tag: 'RHEL9-64' } })] }), 'machines[0].os.tag'],
    ['Windows tag on a Linux machine', () => ({ machines: [machine({ os: { family: 'linux', tag: 'Windows' } })] }), 'machines[0].os.tag'],
    ['unknown run-as account', () => ({ machines: [machine({ runAsAccountId: '00000000-0000-0000-0000-000000000000' })] }), 'machines[0].runAsAccountId'],
    ['install location with a quote', () => ({ machines: [machine({ installLocation: "/opt/asr'; rm -rf /" })] }), 'machines[0].installLocation'],
    ['relative install location', () => ({ machines: [machine({ installLocation: 'opt/asr' })] }), 'machines[0].installLocation'],
    ['unknown process server', () => ({ machines: [machine({ processServerId: 'ps-nowhere' })] }), 'machines[0].processServerId'],
    ['the same machine twice', () => ({ machines: [machine(), machine({ address: '10.1.2.4' })] }), 'machines[1].machineId'],
    ['second machine bad', () => ({ machines: [machine(), machine({ machineId: 'vm-2', address: '' })] }), 'machines[1].address'],
    ['not JSON', () => 'this is not json', ''],
  ];

  for (const [what, body, field] of badBodies) {
    it(`400 naming the field: ${what}`, async () => {
      const before = await lab.daemon.api<{ jobs: unknown[] }>('GET', '/api/v1/jobs');
      const res = await lab.daemon.api<{ message: string; field?: string }>('POST', '/api/v1/replication/enable', body());
      assert.equal(res.status, 400, res.text);
      if (field) {
        assert.equal(res.body.field, field, res.text);
        assert.ok(res.body.message.includes(field), res.body.message);
      }
      const afterList = await lab.daemon.api<{ jobs: unknown[] }>('GET', '/api/v1/jobs');
      assert.equal(afterList.body.jobs.length, before.body.jobs.length, 'nothing was submitted');
    });
  }

  it('account bodies are validated, and no response ever carries a secret', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'a', osFamily: 'linux', username: 'root' }, 'password'],
      [{ name: 'a', osFamily: 'linux', username: 'ro ot', password: 'x1234' }, 'username'],
      [{ name: 'a', osFamily: 'linux', username: 'root', password: 'x1234', domain: 'CORP' }, 'domain'],
      [{ name: 'a', osFamily: 'windows', username: 'CORP\\admin', password: 'x1234', useSudo: true }, 'useSudo'],
      [{ name: 'a', osFamily: 'linux', username: 'root', privateKey: 'not a key' }, 'privateKey'],
      [{ name: 'a', osFamily: 'linux', username: 'root', password: 'x1234', extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const res = await lab.daemon.api<{ field: string }>('POST', '/api/v1/run-as-accounts', body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.field, field, res.text);
    }
    const win = await lab.daemon.api<{ id: string; username: string; domain: string }>('POST', '/api/v1/run-as-accounts', { name: 'win', osFamily: 'windows', username: 'CORP\\pushadmin', password: secret });
    assert.equal(win.status, 201);
    assert.equal(win.body.username, 'pushadmin');
    assert.equal(win.body.domain, 'CORP');
    const upn = await lab.daemon.api<{ username: string; domain: string }>('POST', '/api/v1/run-as-accounts', { name: 'upn', osFamily: 'windows', username: 'pushadmin@corp.example.com', password: secret });
    assert.equal(upn.body.domain, 'corp.example.com');
    const local = await lab.daemon.api<{ username: string; domain: string }>('POST', '/api/v1/run-as-accounts', { name: 'local', osFamily: 'windows', username: '.\\Administrator', password: secret });
    assert.equal(local.body.domain, '.');

    const updated = await lab.daemon.api<{ hasPassword: boolean; name: string }>('PUT', `/api/v1/run-as-accounts/${win.body.id}`, { password: `${secret}-2` });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.name, 'win');
    const list = await lab.daemon.api('GET', '/api/v1/run-as-accounts');
    const one = await lab.daemon.api('GET', `/api/v1/run-as-accounts/${win.body.id}`);
    for (const text of [win.text, upn.text, local.text, updated.text, list.text, one.text]) {
      assert.ok(!text.includes(secret), 'secret in an API response');
      assert.ok(!/"password"|"privateKey"|"passphrase"/.test(text), 'a secret field in an API response');
    }
    assert.equal((await lab.daemon.api('DELETE', `/api/v1/run-as-accounts/${upn.body && (upn.body as unknown as { id: string }).id}`)).status, 204);
    assert.equal((await lab.daemon.api('GET', '/api/v1/run-as-accounts/00000000-0000-0000-0000-000000000000')).status, 404);
  });

  it('secrets are only ciphertext in Redis and never in the log', async () => {
    const redis = new Redis(lab.redis.url);
    try {
      const dump = await dumpRedis(redis);
      assert.match(dump, /pi:account:/);
      for (const form of [secret, `${secret}-2`, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) {
        assert.ok(!dump.includes(form), 'secret in Redis');
        assert.ok(!lab.daemon.logs.join('').includes(form), 'secret in the log');
      }
    } finally {
      redis.disconnect();
    }
  });

  it('404 for an unknown job, 409 for cancelling an ended job; restart of an unknown job is 404', async () => {
    const id = '00000000-0000-0000-0000-000000000000';
    assert.equal((await lab.daemon.api('GET', `/api/v1/jobs/${id}`)).status, 404);
    assert.equal((await lab.daemon.api('POST', `/api/v1/jobs/${id}/cancel`)).status, 404);
    assert.equal((await lab.daemon.api('POST', `/api/v1/jobs/${id}/restart`)).status, 404);
    assert.equal((await lab.daemon.api('GET', `/api/v1/jobs/not..valid`)).status, 400);
    assert.equal((await lab.daemon.api('GET', '/api/v1/jobs?state=Bogus')).status, 400);
    assert.equal((await lab.daemon.api('GET', '/api/v1/nothing-here')).status, 404);
  });

  it('serves Prometheus metrics to any token holder', async () => {
    assert.equal((await lab.daemon.api('GET', '/metrics', undefined, null)).status, 401);
    const res = await lab.daemon.api<string>('GET', '/metrics', undefined, lab.daemon.tokens.operator);
    assert.equal(res.status, 200);
    assert.match(res.text, /^pushinstalld_jobs\{state="Failed"\} \d+$/m);
    assert.match(res.text, /^pushinstalld_queue_jobs\{process_server="cs",state="waiting"\} 0$/m);
    assert.match(res.text, /^pushinstalld_repository_installers 0$/m);
  });

  it('serves its OpenAPI description', async () => {
    const res = await lab.daemon.api<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json', undefined, null);
    assert.equal(res.status, 200);
    assert.match(res.body.openapi, /^3\./);
    assert.ok(res.body.paths['/api/v1/replication/enable']);
    assert.ok(res.body.paths['/api/v1/jobs/{id}']);
  });
});
