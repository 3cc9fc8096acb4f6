// The API contract in-process (`buildApp` + `app.inject()`, a private redis-server, no guest, no daemon):
// 401/403 for every route and role, 400s naming the field with nothing stored, accounts that never
// return secrets, 404/409, body limits, metrics and the OpenAPI document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { TOKEN_ROLES, type TokenRole } from '../../src/api/tokens.ts';
import { dumpRedis } from '../lab/redis-dump.ts';
import { startApiHarness, type ApiHarness } from './harness.ts';

const UNKNOWN = '00000000-0000-0000-0000-000000000000';
const ANY = TOKEN_ROLES;

/** Every route with the roles that may call it; the request is one that changes nothing (bad body, unknown id). */
type Route = [method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, roles: readonly TokenRole[], body?: unknown];
const ROUTES: Route[] = [
  ['POST', '/api/v1/run-as-accounts', ['admin'], {}],
  ['GET', '/api/v1/run-as-accounts', ['admin', 'operator']],
  ['GET', `/api/v1/run-as-accounts/${UNKNOWN}`, ['admin', 'operator']],
  ['PUT', `/api/v1/run-as-accounts/${UNKNOWN}`, ['admin'], {}],
  ['DELETE', `/api/v1/run-as-accounts/${UNKNOWN}`, ['admin']],
  ...['replication/enable', 'mobility-service/update', 'mobility-service/uninstall', 'mobility-service/install-vss-provider', 'readiness-checks']
    .map((p): Route => ['POST', `/api/v1/${p}`, ['admin', 'portal'], {}]),
  ['GET', '/api/v1/jobs', ANY],
  ['GET', `/api/v1/jobs/${UNKNOWN}`, ANY],
  ['GET', `/api/v1/jobs/${UNKNOWN}/log`, ANY],
  ['GET', `/api/v1/jobs/${UNKNOWN}/events`, ANY],
  ['POST', `/api/v1/jobs/${UNKNOWN}/cancel`, ANY],
  ['POST', `/api/v1/jobs/${UNKNOWN}/restart`, ANY],
  ['GET', '/api/v1/repository/installers', ANY],
  ['GET', '/api/v1/repository/os-support', ANY],
  ['POST', '/api/v1/repository/rescan', ['admin', 'operator']],
  ['GET', '/api/v1/host-keys', ['admin', 'operator']],
  ['POST', '/api/v1/host-keys', ['admin'], {}],
  ['DELETE', '/api/v1/host-keys/192.0.2.1:22', ['admin']],
  ['GET', '/metrics', ANY],
];

describe('API contract (in-process)', () => {
  let api: ApiHarness;
  let linuxAccount: string;
  const secret = 'Secret-Pa55word-"quoted"-&-%';

  before(async () => {
    api = await startApiHarness();
    const res = await api.call('POST', '/api/v1/run-as-accounts', { name: 'linux root', osFamily: 'linux', username: 'root', password: secret });
    assert.equal(res.status, 201, res.text);
    linuxAccount = res.json<{ id: string }>().id;
  });
  after(async () => { await api?.stop(); });

  const machine = (extra: Record<string, unknown> = {}) => ({ machineId: 'vm-1', address: '10.1.2.3', os: { family: 'linux' }, runAsAccountId: linuxAccount, ...extra });
  const jobCount = async () => (await api.call('GET', '/api/v1/jobs?limit=1000')).json<{ jobs: unknown[] }>().jobs.length;

  it('health and readiness need no token; readyz checks Redis and the repository', async () => {
    assert.deepEqual((await api.call('GET', '/healthz', undefined, null)).json(), { status: 'ok' });
    const ready = await api.call('GET', '/readyz', undefined, null);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json<{ checks: unknown }>().checks, { redis: 'ok', repository: 'ok' });
  });

  it('every route: 401 without a token or with an unknown one, 403 for each role it does not allow', async () => {
    for (const [method, url, roles, body] of ROUTES) {
      const none = await api.call(method, url, body, null);
      assert.equal(none.status, 401, `${method} ${url} without a token`);
      assert.match(none.json<{ message: string }>().message, /missing bearer token/);
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      assert.equal((await api.call(method, url, body, 'pit_not-a-token')).status, 401, `${method} ${url} unknown token`);
      for (const role of TOKEN_ROLES) {
        const res = await api.call(method, url, body, api.tokens[role]);
        if (roles.includes(role)) assert.ok(res.status !== 401 && res.status !== 403, `${role} may ${method} ${url}: ${res.status} ${res.text}`);
        else assert.equal(res.status, 403, `${role} may not ${method} ${url}`);
      }
    }
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
    ['unknown run-as account', () => ({ machines: [machine({ runAsAccountId: UNKNOWN })] }), 'machines[0].runAsAccountId'],
    ['install location with a quote', () => ({ machines: [machine({ installLocation: "/opt/asr'; rm -rf /" })] }), 'machines[0].installLocation'],
    ['relative install location', () => ({ machines: [machine({ installLocation: 'opt/asr' })] }), 'machines[0].installLocation'],
    ['unknown process server', () => ({ machines: [machine({ processServerId: 'ps-nowhere' })] }), 'machines[0].processServerId'],
    ['the same machine twice', () => ({ machines: [machine(), machine({ address: '10.1.2.4' })] }), 'machines[1].machineId'],
    ['second machine bad', () => ({ machines: [machine(), machine({ machineId: 'vm-2', address: '' })] }), 'machines[1].address'],
    ['VSS provider for Linux', () => ({ machines: [machine()] }), 'machines[0].os.family'],
    ['not JSON', () => 'this is not json', ''],
  ];

  for (const [what, body, field] of badBodies) {
    it(`400 naming the field, nothing submitted: ${what}`, async () => {
      const before = await jobCount();
      const url = what.startsWith('VSS') ? '/api/v1/mobility-service/install-vss-provider' : '/api/v1/replication/enable';
      const res = await api.call('POST', url, body());
      assert.equal(res.status, 400, res.text);
      const err = res.json<{ message: string; field?: string }>();
      if (field) {
        assert.equal(err.field, field, res.text);
        assert.ok(err.message.includes(field), err.message);
      }
      assert.equal(await jobCount(), before, 'nothing was submitted');
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
      const res = await api.call('POST', '/api/v1/run-as-accounts', body);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json<{ field: string }>().field, field, res.text);
    }
    const create = async (username: string) => api.call('POST', '/api/v1/run-as-accounts', { name: username, osFamily: 'windows', username, password: secret });
    const win = await create('CORP\\pushadmin');
    const upn = await create('pushadmin@corp.example.com');
    const local = await create('.\\Administrator');
    assert.equal(win.status, 201);
    assert.deepEqual([win, upn, local].map((r) => [r.json().username, r.json().domain]), [['pushadmin', 'CORP'], ['pushadmin', 'corp.example.com'], ['Administrator', '.']]);
    const winId = win.json<{ id: string }>().id;
    const updated = await api.call('PUT', `/api/v1/run-as-accounts/${winId}`, { password: `${secret}-2` });
    assert.equal(updated.status, 200);
    assert.equal(updated.json().name, 'CORP\\pushadmin');
    const list = await api.call('GET', '/api/v1/run-as-accounts');
    const one = await api.call('GET', `/api/v1/run-as-accounts/${winId}`);
    for (const res of [win, upn, local, updated, list, one]) {
      assert.ok(!res.text.includes(secret), 'secret in an API response');
      assert.ok(!/"password"|"privateKey"|"passphrase"/.test(res.text), 'a secret field in an API response');
    }
    assert.equal((await api.call('DELETE', `/api/v1/run-as-accounts/${upn.json<{ id: string }>().id}`)).status, 204);
    assert.equal((await api.call('GET', `/api/v1/run-as-accounts/${UNKNOWN}`)).status, 404);
  });

  it('secrets are only ciphertext in Redis and never in the log', async () => {
    const redis = new Redis(api.redis.url);
    try {
      const dump = await dumpRedis(redis);
      assert.match(dump, /pi:account:/);
      for (const form of [secret, `${secret}-2`, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) {
        assert.ok(!dump.includes(form), 'secret in Redis');
        assert.ok(!api.logs.join('').includes(form), 'secret in the log');
      }
    } finally {
      redis.disconnect();
    }
  });

  it('404 for unknown jobs and routes, 400 for bad ids and filters, 409 for cancelling an ended or restarting a running job', async () => {
    for (const [method, url] of [['GET', `/api/v1/jobs/${UNKNOWN}`], ['GET', `/api/v1/jobs/${UNKNOWN}/log`], ['POST', `/api/v1/jobs/${UNKNOWN}/cancel`], ['POST', `/api/v1/jobs/${UNKNOWN}/restart`], ['GET', '/api/v1/nothing-here']] as const) {
      assert.equal((await api.call(method, url)).status, 404, `${method} ${url}`);
    }
    assert.equal((await api.call('GET', '/api/v1/jobs/not..valid')).status, 400);
    const filter = await api.call('GET', '/api/v1/jobs?state=Bogus');
    assert.equal(filter.status, 400);
    assert.equal(filter.json().field, 'state');
    // No worker here: a submitted job stays queued, so cancel ends it at once.
    const sub = await api.call('POST', '/api/v1/replication/enable', { machines: [machine({ machineId: 'vm-409' })] });
    assert.equal(sub.status, 202, sub.text);
    const id = sub.json<{ jobs: Array<{ id: string }> }>().jobs[0]?.id as string;
    const restartQueued = await api.call('POST', `/api/v1/jobs/${id}/restart`);
    assert.equal(restartQueued.status, 409);
    assert.match(restartQueued.json<{ message: string }>().message, /still NotStarted; cancel it first/);
    const cancelled = await api.call('POST', `/api/v1/jobs/${id}/cancel`, undefined, api.tokens.operator);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.json().state, 'Cancelled');
    assert.equal((await api.call('POST', `/api/v1/jobs/${id}/cancel`)).status, 409);
    const restarted = await api.call('POST', `/api/v1/jobs/${id}/restart`, undefined, api.tokens.portal);
    assert.equal(restarted.status, 202);
    assert.equal(restarted.json<{ jobs: Array<{ created: boolean }> }>().jobs[0]?.created, true);
  });

  it('bodies over 4 MiB are 413, other media types 415', async () => {
    const huge = JSON.stringify({ machines: [machine({ displayName: 'x'.repeat(4 * 1024 * 1024) })] });
    const tooLarge = await api.call('POST', '/api/v1/replication/enable', huge);
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.json().error, 'Payload Too Large', 'fastify\'s own errors are named like ours');
    const res = await api.inject({ method: 'POST', url: '/api/v1/replication/enable', payload: 'machines=1', headers: { authorization: `Bearer ${api.tokens.admin}`, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error, 'Unsupported Media Type');
    assert.equal((await api.call('POST', '/api/v1/replication/enable', '{"machines": [')).json().error, 'Bad Request');
  });

  it('serves Prometheus metrics to any token holder', async () => {
    const res = await api.call('GET', '/metrics', undefined, api.tokens.portal);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /^# TYPE pushinstalld_jobs gauge$/m);
    assert.match(res.text, /^pushinstalld_jobs\{state="Failed"\} 0$/m);
    assert.match(res.text, /^pushinstalld_jobs\{state="NotStarted"\} 1$/m);
    assert.match(res.text, /^pushinstalld_queue_jobs\{process_server="cs",state="waiting"\} 1$/m);
    assert.match(res.text, /^pushinstalld_process_server_last_seen_seconds\{process_server="cs"\} [\d.]+$/m);
    assert.match(res.text, /^pushinstalld_repository_installers 0$/m);
    assert.match(res.text, /^pushinstalld_repository_rejected_files 0$/m);
  });

  it('serves its OpenAPI description and the docs UI without a token', async () => {
    const res = await api.call('GET', '/openapi.json', undefined, null);
    assert.equal(res.status, 200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/api/v1/replication/enable', '/api/v1/jobs/{id}', '/api/v1/run-as-accounts', '/api/v1/host-keys']) assert.ok(doc.paths[p], p);
    assert.equal((await api.call('GET', '/docs/', undefined, null)).status, 200);
  });
});
