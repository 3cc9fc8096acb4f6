// The API contract as the daemon wires it (startDaemon: real repository, worker heartbeat, logger), over
// HTTP through the typed client. The contract itself (every route and role, 400s naming fields,
// 404/409, limits, OpenAPI) is checked in-process in test/api/contract.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ApiError } from '../../src/client/api-client.ts';
import { dumpRedis, startLab, type Lab } from './fixtures.ts';

describe('API contract (running daemon)', () => {
  let lab: Lab;
  const secret = 'Secret-Pa55word-"quoted"-&-%';

  before(async () => { lab = await startLab(); });
  after(async () => { await lab?.stop(); });

  it('health needs no token; readyz checks Redis and the repository folder', async () => {
    const anonymous = lab.daemon.client.withToken(null);
    assert.deepEqual(await anonymous.health(), { status: 'ok' });
    assert.deepEqual(await anonymous.ready(), { status: 'ready', checks: { redis: 'ok', repository: 'ok' } });
  });

  it('401 and 403 reach the client as ApiError', async () => {
    const none = await lab.daemon.client.withToken(null).listJobs().catch((e: unknown) => e);
    assert.ok(none instanceof ApiError);
    assert.equal(none.status, 401);
    assert.match(none.message, /missing bearer token/);
    const portal = await lab.daemon.client.withToken(lab.daemon.tokens.portal).listAccounts().catch((e: unknown) => e);
    assert.equal((portal as ApiError).status, 403);
  });

  it('metrics show the worker\'s process server and its queue', async () => {
    const text = await lab.daemon.client.withToken(lab.daemon.tokens.operator).metrics();
    assert.match(text, /^pushinstalld_jobs\{state="Failed"\} \d+$/m);
    assert.match(text, /^pushinstalld_queue_jobs\{process_server="cs",state="waiting"\} 0$/m);
    assert.match(text, /^pushinstalld_process_server_last_seen_seconds\{process_server="cs"\} [\d.]+$/m);
    assert.match(text, /^pushinstalld_repository_installers 0$/m);
  });

  it('an account secret is only ciphertext in Redis and never in the daemon\'s log', async () => {
    const win = await lab.daemon.client.createAccount({ name: 'win', osFamily: 'windows', username: 'CORP\\pushadmin', password: secret });
    await lab.daemon.client.updateAccount(win.id, { password: `${secret}-2` });
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
});
