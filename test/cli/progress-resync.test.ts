// The progress view when the event stream drops before its first event: the client has no cursor then
// and resumes from "now", so a job that ended in the gap is only seen by reading it again on reopen.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ApiClient } from '../../src/client/api-client.ts';
import { watchJobs } from '../../src/cli/progress.ts';

function job(state: string): object {
  const tasks = ['CopyInstaller', 'PrerequisiteCheck', 'InstallMobilityService', 'InstallVssProvider', 'RegisterWithConfigurationServer']
    .map((name) => ({ name, state: state === 'Succeeded' ? 'Succeeded' : 'NotStarted', errors: [] }));
  return { id: 'j1', type: 'enable-replication', state, machine: { machineId: 'vm-1' }, tasks, errors: [] };
}

describe('progress view: a stream dropped before its first event', () => {
  it('reads the unfinished jobs again when the stream reopens, so a job that ended in the gap ends the watch', async () => {
    let state = 'NotStarted';
    let opens = 0;
    const fakeFetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const u = String(url);
      if (u.endsWith('/api/v1/jobs/j1')) return new Response(JSON.stringify(job(state)), { status: 200, headers: { 'content-type': 'application/json' } });
      if (u.includes('/api/v1/events')) {
        opens += 1;
        if (opens === 1) {
          // Open, ask for a quick retry, and drop with no event once the watch has read the job.
          const body = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new TextEncoder().encode('retry: 10\n\n')); setTimeout(() => c.close(), 100); } });
          return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
        }
        // The job ended while the stream was down; the new stream starts from "now" and stays quiet:
        // only reading the job again can tell.
        state = 'Succeeded';
        // (Like fetch's, its body ends when the request is aborted.)
        const quiet = new ReadableStream<Uint8Array>({ start(c) { init?.signal?.addEventListener('abort', () => c.error(new Error('aborted'))); } });
        return new Response(quiet, { status: 200, headers: { 'content-type': 'text/event-stream' } });
      }
      return new Response('{}', { status: 404 });
    };
    const client = new ApiClient({ baseUrl: 'http://pushinstalld.test', token: 't', fetch: fakeFetch as typeof fetch });
    const output = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    let printed = '';
    (output as unknown as PassThrough).on('data', (d: Buffer) => { printed += d.toString(); });
    const result = await watchJobs(client, { jobIds: ['j1'], output });
    assert.equal(opens, 2, 'the stream was opened again');
    assert.equal(result.progress.list()[0]?.state, 'Succeeded');
    assert.equal(result.interrupted, false);
    assert.match(printed, /vm-1 {2}job Succeeded/);
  });
});
