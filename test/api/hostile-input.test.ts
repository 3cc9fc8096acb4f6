// Two defects a hostile-input sweep found, in-process: a lone UTF-16 surrogate in a secret field made
// the redactor throw (500), and a prototype-poisoning key was "Body is not valid JSON" without a field.
// Now a secret holding anything is accepted and still redacted everywhere; a forbidden key is a 400
// naming where it is.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redactor } from '../../src/logging/redactor.ts';
import { dumpRedis } from '../lab/redis-dump.ts';
import { startApiHarness, type ApiHarness } from './harness.ts';

const KEY = (inner: string) => `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${inner}QyNTUxOQAAACDd3xhq0zV0kR6gQ1tY5m3\n-----END OPENSSH PRIVATE KEY-----\n`;

describe('hostile input (in-process)', () => {
  let api: ApiHarness;
  before(async () => { api = await startApiHarness(); });
  after(async () => { await api?.stop(); });

  // Raw JSON text: JSON.stringify would escape the surrogate the same way, but this is what the sweep sent.
  const surrogates = ['\\ud800', '\\udbff', '\\udc00', '\\udfff'];
  const secretBodies = surrogates.flatMap((s) => [
    [`password with ${s}`, `{"name":"x","osFamily":"linux","username":"u","password":"pw${s}x-${s.slice(2)}"}`],
    [`privateKey with ${s}`, `{"name":"x","osFamily":"linux","username":"u","privateKey":${JSON.stringify(KEY(`AAAA${s.slice(2)}`)).replace(`AAAA${s.slice(2)}`, `AAAA${s}`)}}`],
    [`passphrase with ${s}`, `{"name":"x","osFamily":"linux","username":"u","privateKey":${JSON.stringify(KEY('BBBB'))},"passphrase":"pp${s}-${s.slice(2)}"}`],
    [`Windows password with ${s}`, `{"name":"x","osFamily":"windows","username":"u","password":"${s}win-${s.slice(2)}"}`],
  ]);

  it('a lone surrogate in any secret field of POST is accepted (201), never a 5xx', async () => {
    for (const [what, body] of secretBodies) {
      const res = await api.call('POST', '/api/v1/run-as-accounts', body);
      assert.equal(res.status, 201, `${what}: ${res.text}`);
    }
  });

  it('… and of PUT too', async () => {
    const created = await api.call('POST', '/api/v1/run-as-accounts', { name: 'put target', osFamily: 'linux', username: 'u', password: 'plain-password' });
    const id = created.json<{ id: string }>().id;
    for (const body of ['{"password":"put\\ud800-pw"}', `{"privateKey":${JSON.stringify(KEY('CCCC'))},"passphrase":"put\\udc00-pp"}`, `{"privateKey":${JSON.stringify(KEY('DDDD')).replace('DDDD', 'DD\\udbffDD')}}`]) {
      const res = await api.call('PUT', `/api/v1/run-as-accounts/${id}`, body);
      assert.equal(res.status, 200, `${body}: ${res.text}`);
    }
  });

  it('such a secret is redacted from responses, logs and Redis like any other', async () => {
    const secret = 'Lone\ud800Surrogate-secret';
    const res = await api.call('POST', '/api/v1/run-as-accounts', JSON.stringify({ name: 'lone', osFamily: 'linux', username: 'u', password: secret }));
    assert.equal(res.status, 201);
    const id = res.json<{ id: string }>().id;
    // The redactor holds it: a log line, job log line or error message carrying it in any form is masked.
    const utf8 = Buffer.from(secret, 'utf8');
    for (const form of [secret, utf8.toString('utf8'), utf8.toString('base64'), encodeURIComponent(utf8.toString('utf8')), JSON.stringify(secret).slice(1, -1)]) {
      assert.equal(redactor.redact(`[${form}]`), '[***]', JSON.stringify(form));
    }
    api.app.log.info({ detail: secret }, `echo ${secret}`);
    const redis = new Redis(api.redis.url);
    try {
      const places = { responses: [res.text, (await api.call('GET', `/api/v1/run-as-accounts/${id}`)).text].join('\n'), logs: api.logs.join(''), redis: await dumpRedis(redis) };
      for (const [where, text] of Object.entries(places)) {
        for (const form of [secret, utf8.toString('utf8'), utf8.toString('base64'), JSON.stringify(secret).slice(1, -1), 'Surrogate-secret']) {
          assert.ok(!text.includes(form), `${JSON.stringify(form)} in ${where}`);
        }
      }
      assert.match(places.logs, /echo \*\*\*/);
    } finally {
      redis.disconnect();
    }
  });

  const poisoned: Array<[string, string, string]> = [
    ['__proto__ at the top', '{"__proto__":{"polluted":true},"machines":[]}', '__proto__'],
    ['__proto__ in a machine', '{"machines":[{"machineId":"vm","__proto__":{"isAdmin":true}}]}', 'machines[0].__proto__'],
    ['__proto__ in the OS, unicode-escaped', '{"machines":[{"os":{"\\u005f_proto__":{}}}]}', 'machines[0].os.__proto__'],
    ['constructor.prototype in a machine', '{"machines":[{},{"constructor":{"prototype":{"x":1}}}]}', 'machines[1].constructor.prototype'],
  ];
  for (const [what, body, field] of poisoned) {
    it(`a forbidden key is a 400 naming it: ${what}`, async () => {
      const res = await api.call('POST', '/api/v1/replication/enable', body);
      assert.equal(res.status, 400, res.text);
      const err = res.json<{ error: string; message: string; field: string }>();
      assert.equal(err.field, field);
      assert.equal(err.error, 'Bad Request');
      assert.match(err.message, new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: is a forbidden key`));
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was touched');
    });
  }

  it('the same on the account routes, and a "constructor" key without "prototype" is only an unknown property', async () => {
    const res = await api.call('POST', '/api/v1/run-as-accounts', '{"name":"x","osFamily":"linux","username":"u","password":"pw123","__proto__":{}}');
    assert.equal(res.status, 400);
    assert.equal(res.json().field, '__proto__');
    const ctor = await api.call('POST', '/api/v1/run-as-accounts', '{"name":"x","osFamily":"linux","username":"u","password":"pw123","constructor":{"name":"y"}}');
    assert.equal(ctor.status, 400);
    assert.equal(ctor.json().field, 'constructor');
    assert.match(ctor.json<{ message: string }>().message, /unknown property/);
  });

  it('bodies that are not JSON keep their plain 400', async () => {
    for (const body of ['{"machines":', '{"__proto__":', '']) {
      const res = await api.call('POST', '/api/v1/replication/enable', body);
      assert.equal(res.status, 400, body);
      assert.match(res.json<{ message: string }>().message, /not valid JSON|cannot be empty/);
      assert.equal(res.json().field, undefined);
    }
  });
});
