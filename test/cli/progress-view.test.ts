// The progress view without I/O: events and jobs fed in, the frames and change lines compared.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job, JobEvent } from '../../src/client/contract.ts';
import { changeLine, frame, Progress } from '../../src/cli/progress-view.ts';
import { View } from '../../src/cli/progress.ts';

const ev = (jobId: string, kind: 'job' | 'task', state: string, task?: string): JobEvent => ({ cursor: '1-0', jobId, kind, state, at: '2026-01-01T00:00:00Z', ...(task ? { task } : {}) });

function job(id: string, machineId: string, state: Job['state'], tasks: Array<[string, string, number?]>): Job {
  return {
    id, type: 'enable-replication', machine: { machineId, displayName: machineId, address: '10.0.0.1', os: { family: 'linux' } }, processServerId: 'cs', runAsAccountId: 'a',
    state, attempts: 1, createdAt: '2026-01-01T00:00:00Z', allowedActions: [], errors: [],
    tasks: tasks.map(([name, s, code]) => ({ name, state: s, errors: code ? [{ code, message: 'm', possibleCauses: 'c', recommendedAction: 'r', retryable: false }] : [] })),
  } as Job;
}

describe('progress view', () => {
  it('draws a line per job and a summary, as events arrive, to the final frame', () => {
    const p = new Progress([{ jobId: 'j1', machineId: 'vm-web', state: 'NotStarted' }, { jobId: 'j2', machineId: 'vm-db', state: 'NotStarted' }]);
    assert.deepEqual(frame(p, 0), [
      'vm-web   NotStarted  -',
      'vm-db    NotStarted  -',
      '[....................] 0/2 final · NotStarted 2 · 0:00',
    ]);
    p.apply(ev('j1', 'job', 'InProgress'));
    const changes = p.apply(ev('j1', 'task', 'InProgress', 'CopyInstaller'));
    assert.deepEqual(changes.map((c) => changeLine(c, 3000)), ['+0:03  vm-web  CopyInstaller InProgress']);
    assert.deepEqual(p.apply(ev('j1', 'task', 'InProgress', 'CopyInstaller')), [], 'a repeated event is no change');
    p.apply(ev('j1', 'job', 'Succeeded'));
    const failed = p.fromJob(job('j2', 'vm-db', 'Failed', [['CopyInstaller', 'Succeeded'], ['PrerequisiteCheck', 'Failed', 95107], ['InstallMobilityService', 'NotStarted']]));
    assert.deepEqual(failed.map((c) => changeLine(c, 65_000)), ['+1:05  vm-db  PrerequisiteCheck Failed', '+1:05  vm-db  job Failed  error 95107']);
    assert.deepEqual(frame(p, 65_000), [
      'vm-web   Succeeded   CopyInstaller InProgress',
      'vm-db    Failed      PrerequisiteCheck Failed  error 95107',
      '[####################] 2/2 final · Succeeded 1 · Failed 1 · 1:05',
    ]);
    assert.equal(p.allFinal(), true);
    assert.equal(p.exitCode(), 1);
  });

  it('exit code: 0 all Succeeded, 3 worst Warning, 1 any Failed or Cancelled or unfinished', () => {
    const of = (...states: Job['state'][]) => new Progress(states.map((state, i) => ({ jobId: `j${i}`, machineId: `m${i}`, state }))).exitCode();
    assert.equal(of('Succeeded', 'Succeeded'), 0);
    assert.equal(of('Succeeded', 'Warning'), 3);
    assert.equal(of('Warning', 'Cancelled'), 1);
    assert.equal(of('Warning', 'Failed'), 1);
    assert.equal(of('Succeeded', 'InProgress'), 1);
  });

  it('an event older than the job as read never moves it back; events of other jobs are ignored', () => {
    const p = new Progress([{ jobId: 'j1', machineId: 'vm', state: 'NotStarted' }]);
    p.fromJob(job('j1', 'vm', 'Succeeded', [['CopyInstaller', 'Succeeded']]));
    assert.deepEqual(p.apply(ev('j1', 'job', 'InProgress'), true), []);
    assert.deepEqual(p.apply(ev('j1', 'task', 'InProgress', 'CopyInstaller'), true), []);
    assert.deepEqual(p.apply(ev('other', 'job', 'Failed')), []);
    assert.equal(p.list()[0]?.state, 'Succeeded');
  });

  it('with more jobs than lines, shows the unfinished first and counts the rest; colours final states on request', () => {
    const p = new Progress(['Succeeded', 'InProgress', 'Failed', 'NotStarted'].map((state, i) => ({ jobId: `j${i}`, machineId: `vm-${i}`, state: state as Job['state'] })));
    assert.deepEqual(frame(p, 0, { maxLines: 4 }), [
      'vm-1     InProgress  -',
      'vm-3     NotStarted  -',
      '… and 2 more',
      '[##########..........] 2/4 final · NotStarted 1 · InProgress 1 · Succeeded 1 · Failed 1 · 0:00',
    ]);
    assert.ok((frame(p, 0, { colour: true })[2] as string).includes('\x1b[31mFailed    \x1b[0m'), 'Failed in red');
  });
});

describe('progress output', () => {
  const stream = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, s: { isTTY, rows: 24, write: (t: string) => { writes.push(t); return true; } } as unknown as NodeJS.WriteStream };
  };

  it('on a terminal: each frame goes back over the previous one (cursor up, clear below)', () => {
    const { writes, s } = stream(true);
    const p = new Progress([{ jobId: 'j1', machineId: 'vm-web', state: 'NotStarted' }]);
    const view = new View(s);
    view.changed(p, []);
    view.changed(p, p.apply(ev('j1', 'job', 'Succeeded')));
    view.close();
    assert.equal(writes.length, 3);
    assert.ok(!(writes[0] as string).includes('\x1b[2A'), 'the first frame is drawn where the cursor is');
    assert.ok((writes[1] as string).startsWith('\x1b[2A\r\x1b[J'), 'the next one replaces its 2 lines');
    assert.ok((writes[1] as string).includes('Succeeded'));
  });

  it('not on a terminal: a line per change, the summary at the end, no escape sequence', () => {
    const { writes, s } = stream(false);
    const p = new Progress([{ jobId: 'j1', machineId: 'vm-web', state: 'NotStarted' }]);
    const view = new View(s);
    view.changed(p, p.apply(ev('j1', 'job', 'Succeeded')));
    view.close();
    assert.match(writes.join(''), /^\+\d+:\d\d {2}vm-web {2}job Succeeded\n\[#{20}\] 1\/1 final · Succeeded 1 · \d+:\d\d\n$/);
  });
});

describe('progress frame width', () => {
  it('cuts lines at the terminal width so none wraps', () => {
    const p = new Progress([{ jobId: 'j1', machineId: 'a-machine-with-a-long-name', state: 'Failed', task: 'RegisterWithConfigurationServer', taskState: 'Failed', error: 99012 }]);
    const lines = frame(p, 0, { columns: 40, colour: true });
    assert.equal(lines[0], 'a-machine-with-a-long-name  \x1b[31mFailed    \x1b[0m …');
    assert.ok(lines.every((l) => l.replaceAll('\x1b[31m', '').replaceAll('\x1b[0m', '').length <= 40), JSON.stringify(lines));
  });
});
