// The API contract as the daemon wires it (startDaemon: real repository, worker heartbeat, logger), over
// HTTP through the typed client. The contract itself (every route and role, 400s naming fields,
// 404/409, limits, secrets, OpenAPI) is checked in-process in test/api/contract.test.ts; secrets in the
// daemon's log and Redis after real pushes in security-hygiene.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../src/client/api-client.ts';
import { startLab, type Lab } from './fixtures.ts';

describe('API contract (running daemon)', () => {
  let lab: Lab;

  before(async () => { lab = await startLab(); });
  after(async () => { await lab?.stop(); });

  it('health needs no token; readyz checks Redis, the repository folder and the vault key agreement', async () => {
    const anonymous = lab.daemon.client.withToken(null);
    assert.deepEqual(await anonymous.health(), { status: 'ok' });
    // The lab daemon sets CS_VERSION, CS_ENDPOINT and CS_PASSPHRASE_FILE: nothing a push needs is missing.
    assert.deepEqual(await anonymous.ready(), { status: 'ready', checks: { redis: 'ok', repository: 'ok', vaultKey: 'ok' }, settings: { missing: [], detail: 'ok' } });
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
});
