// The typed API client against the real app (in-process, listening on a loopback port): each named
// method, ApiError with status/error/message/field, and event streams that resume after a dropped
// connection without losing or repeating an event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MachineRequest } from '../../src/domain/job.ts';
import { ApiClient, ApiError } from '../../src/client/api-client.ts';
import type { JobStreamEvent } from '../../src/api/views.ts';
import { startApiHarness, type ApiHarness } from './harness.ts';
import { checkResponse } from './openapi-check.ts';

/** A fetch whose event streams end after `events` events (a dropped connection), for the first `drops.count` streams. */
function droppingFetch(events: number, drops: { count: number }): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!res.headers.get('content-type')?.startsWith('text/event-stream') || drops.count === 0) return res;
    drops.count--;
    let text = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      text += new TextDecoder().decode(chunk);
      const blocks = text.split('\n\n');
      const withId = blocks.map((b, i) => (/^id: /m.test(b) && i < blocks.length - 1 ? i : -1)).filter((i) => i >= 0);
      if (withId.length >= events) { text = `${blocks.slice(0, (withId[events - 1] as number) + 1).join('\n\n')}\n\n`; break; }
    }
    // The client waits as long as the server's retry field says: make it short.
    return new Response(text.replace(/^retry: \d+$/m, 'retry: 20'), { status: res.status, headers: res.headers });
  };
}

describe('typed API client', () => {
  let api: ApiHarness;
  let client: ApiClient;
  let accountId: string;
  const machine = (machineId: string): MachineRequest => ({ machineId, address: '10.9.8.7', os: { family: 'linux' }, runAsAccountId: accountId });

  before(async () => {
    api = await startApiHarness();
    const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    client = new ApiClient({
      baseUrl: url, token: api.tokens.admin,
      onResponse: (method, path, res) => checkResponse({ method, url: path, status: res.status, contentType: res.headers.get('content-type') ?? undefined, text: res.text }),
    });
  });
  after(async () => { await api?.stop(); });

  it('service, accounts and repository methods', async () => {
    assert.deepEqual(await client.withToken(null).health(), { status: 'ok' });
    assert.equal((await client.ready()).status, 'ready');
    assert.match(await client.metrics(), /^pushinstalld_jobs\{state="Succeeded"\} \d+$/m);
    assert.match((await client.openApi()).openapi, /^3\./);
    const account = await client.createAccount({ name: 'root', osFamily: 'linux', username: 'root', password: 'pw-client-test' });
    accountId = account.id;
    assert.equal(account.hasPassword, true);
    assert.deepEqual((await client.listAccounts()).map((a) => a.id), [account.id]);
    assert.equal((await client.updateAccount(account.id, { name: 'renamed' })).name, 'renamed');
    assert.equal((await client.withToken(api.tokens.operator).getAccount(account.id)).name, 'renamed');
    const spare = await client.createAccount({ name: 'spare', osFamily: 'windows', username: 'CORP\\x', password: 'pw-spare' });
    await client.deleteAccount(spare.id);
    assert.deepEqual(await client.listInstallers(), { installers: [], rejected: [] });
    assert.deepEqual(await client.osSupport(), []);
    assert.deepEqual(await client.rescanRepository(), { installers: [], rejected: [] });
  });

  it('an error answer is one ApiError with status, error, message and field', async () => {
    const err = await client.createAccount({ name: 'x', osFamily: 'linux', username: 'bad user', password: 'pw123' }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.error, err.field, err.method, err.path], [400, 'Bad Request', 'username', 'POST', '/api/v1/run-as-accounts']);
    assert.match(err.message, /^username: must be a POSIX user name/);
    const forbidden = await client.withToken(api.tokens.portal).listAccounts().catch((e: unknown) => e) as ApiError;
    assert.deepEqual([forbidden.status, forbidden.error], [403, 'Forbidden']);
    const missing = await client.getJob('00000000-0000-0000-0000-000000000000').catch((e: unknown) => e) as ApiError;
    assert.deepEqual([missing.status, missing.error, missing.field], [404, 'Not Found', undefined]);
    const conflict = await client.withToken(null).listJobs().catch((e: unknown) => e) as ApiError;
    assert.equal(conflict.status, 401);
  });

  it('job methods: submit, get, list with filters, log, cancel, restart', async () => {
    const [job] = await client.withToken(api.tokens.portal).enableReplication([machine('vm-a')]);
    assert.ok(job);
    assert.deepEqual([job.created, job.statusCode, job.state], [true, 202, 'NotStarted']);
    const again = await client.submit('enable-replication', [machine('vm-a')]);
    assert.deepEqual([again[0]?.id, again[0]?.created, again[0]?.statusCode], [job.id, false, 200]);
    assert.equal((await client.getJob(job.id)).machine.machineId, 'vm-a');
    await client.readinessCheck([machine('vm-b')]);
    const page = await client.listJobs({ limit: 1 });
    assert.equal(page.jobs.length, 1);
    assert.ok(page.nextCursor);
    assert.equal((await client.listJobs({ limit: 1, cursor: page.nextCursor })).jobs.length, 1);
    assert.deepEqual((await client.listJobs({ type: 'readiness-check' })).jobs.map((j) => j.machine.machineId), ['vm-b']);
    assert.equal(typeof (await client.jobLog(job.id)), 'string');
    const cancelled = await client.withToken(api.tokens.operator).cancelJob(job.id);
    assert.equal(cancelled.state, 'Cancelled');
    assert.deepEqual(cancelled.allowedActions, ['Restart']);
    const restarted = await client.restartJob(job.id);
    assert.deepEqual([restarted.machineId, restarted.created, restarted.statusCode], ['vm-a', true, 202]);
    assert.equal((await client.getJob(restarted.id)).restartOf, job.id);
  });

  it('watchJob yields a job\'s events in order and ends with its final state (carrying the job)', async () => {
    const [job] = await client.enableReplication([machine('vm-watch')]);
    const events: JobStreamEvent[] = [];
    const watching = (async () => { for await (const ev of client.withToken(api.tokens.operator).watchJob(job?.id as string)) events.push(ev); })();
    await new Promise((r) => setTimeout(r, 200));
    await client.cancelJob(job?.id as string);
    await watching;
    assert.deepEqual(events.slice(0, 5).map((e) => [e.kind, e.state]), Array(5).fill(['task', 'NotStarted']));
    const last = events.at(-1);
    assert.deepEqual([last?.kind, last?.state, last?.job?.state], ['job', 'Cancelled', 'Cancelled']);
  });

  it('a stream that drops reconnects with Last-Event-ID: nothing lost, nothing repeated', async () => {
    const [job] = await client.enableReplication([machine('vm-resume')]);
    await client.cancelJob(job?.id as string);
    const full: JobStreamEvent[] = [];
    for await (const ev of client.watchJob(job?.id as string)) full.push(ev);
    const drops = { count: 3 };
    const flaky = new ApiClient({ baseUrl: api.app.listeningOrigin, token: api.tokens.admin, fetch: droppingFetch(2, drops) });
    const resumed: JobStreamEvent[] = [];
    for await (const ev of flaky.watchJob(job?.id as string, { maxReconnects: 5 })) resumed.push(ev);
    assert.equal(drops.count, 0, 'the connection did drop three times');
    assert.deepEqual(resumed.map((e) => e.cursor), full.map((e) => e.cursor));

    // The global log: from a cursor, until the caller stops.
    const seen: string[] = [];
    for await (const ev of client.events({ after: full[1]?.cursor })) {
      seen.push(ev.cursor);
      if (ev.cursor === full.at(-1)?.cursor) break;
    }
    assert.deepEqual(seen.filter((c) => full.some((e) => e.cursor === c)), full.slice(2).map((e) => e.cursor));
  });

  it('raw answers any status, and onResponse sees every exchange', async () => {
    const seen: string[] = [];
    const recording = new ApiClient({ baseUrl: api.app.listeningOrigin, token: api.tokens.admin, onResponse: (m, p, r) => seen.push(`${m} ${p} ${r.status}`) });
    const res = await recording.raw<{ field: string }>('POST', '/api/v1/replication/enable', '{"machines": nope}');
    assert.equal(res.status, 400);
    await recording.listJobs({ state: 'Failed' });
    assert.deepEqual(seen, ['POST /api/v1/replication/enable 400', 'GET /api/v1/jobs?state=Failed 200']);
  });
});
