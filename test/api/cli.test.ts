// The operator CLI over the typed client, against the in-process app: output formats and the error
// line (method, path, status, message) with exit code 1; a usage error exits 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startApiHarness, type ApiHarness } from './harness.ts';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.ts');

describe('operator CLI', () => {
  let api: ApiHarness;
  let url: string;
  let dataDir: string;

  const cli = (args: string[], token = api.tokens.admin) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PUSHINSTALLD_URL: url, PUSHINSTALLD_TOKEN: token, DATA_DIR: dataDir },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => resolve({ code, out, err }));
  });

  before(async () => {
    api = await startApiHarness();
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'pi-cli-'));
  });
  after(async () => {
    await api?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('jobs list prints one line per job; jobs get prints the job; watch prints its events to the end', async () => {
    const account = await api.call('POST', '/api/v1/run-as-accounts', { name: 'cli', osFamily: 'linux', username: 'root', password: 'pw-cli-test' });
    const sub = await api.call('POST', '/api/v1/replication/enable', { machines: [{ machineId: 'vm-cli', address: '10.2.3.4', os: { family: 'linux' }, runAsAccountId: account.json<{ id: string }>().id }] });
    const id = sub.json<{ jobs: Array<{ id: string }> }>().jobs[0]?.id as string;
    const list = await cli(['jobs', 'list', '--state', 'NotStarted']);
    assert.equal(list.code, 0, list.err);
    assert.equal(list.out, `${id}  NotStarted enable-replication   vm-cli (10.2.3.4)\n`);
    const get = await cli(['jobs', 'get', id, '--json']);
    assert.equal(JSON.parse(get.out).id, id);
    const watching = cli(['jobs', 'watch', id]);
    // Whenever the CLI connects, the stream replays the job's events from the first and ends with the final one.
    assert.equal((await api.call('POST', `/api/v1/jobs/${id}/cancel`)).status, 202);
    const watch = await watching;
    // Non-TTY: a line per change, then the summary; a Cancelled job makes the exit code 1.
    assert.equal(watch.code, 1, watch.err);
    assert.match(watch.out, /^\+0:\d\d {2}vm-cli {2}job Cancelled$/m);
    assert.match(watch.out, /\] 1\/1 final · Cancelled 1 · \d+:\d\d\n$/);
  });

  it('an API error is one line naming the request, the status and the message (exit 1); a usage error exits 2', async () => {
    const res = await cli(['jobs', 'get', '00000000-0000-0000-0000-000000000000']);
    assert.equal(res.code, 1);
    assert.equal(res.err, 'pushinstalld: GET /api/v1/jobs/00000000-0000-0000-0000-000000000000: 404 job 00000000-0000-0000-0000-000000000000 does not exist\n');
    const forbidden = await cli(['host-keys', 'forget', '192.0.2.9'], api.tokens.operator);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.err, /^pushinstalld: DELETE \/api\/v1\/host-keys\/192\.0\.2\.9%3A22: 403 role operator may not DELETE/);
    const usage = await cli(['jobs', 'frobnicate']);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /unknown command 'frobnicate'/);
  });
});
