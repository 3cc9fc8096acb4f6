// The batched Windows command line (src/pipeline/windows/batch.ts, facts.ts): how it is built, how strictly
// its output is split, and that a part that fails fails the check it belongs to exactly as the command it
// replaces did (code and `what`), run against the guest simulator through a fake command channel.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import type { JobContext } from '../../src/pipeline/context.ts';
import type { SelectedInstaller } from '../../src/pipeline/deps.ts';
import { batchLine, parseBatch, runBatch } from '../../src/pipeline/windows/batch.ts';
import { ENVIRONMENT_KEY, windowsCommands } from '../../src/pipeline/windows/commands.ts';
import { readWindows } from '../../src/pipeline/windows/facts.ts';
import { checkWindowsPrerequisites } from '../../src/pipeline/windows/prerequisites.ts';
import { WindowsGuest } from '../../src/pipeline/windows/windows-guest.ts';
import type { CommandChannel, ExecResult, FileChannel } from '../../src/transports/transport.ts';
import { WindowsDrive } from '../lab/windows-fs.ts';
import { SimulatedWindows } from '../lab/windows-machine.ts';

const N = '0123456789abcdef01234567';

describe('batched command line', () => {
  it('wraps each part in markers; refuses parts that would regroup the line, bad names and over-long lines', () => {
    assert.equal(batchLine(N, [{ name: 'a', command: 'whoami /groups' }, { name: 'b-2', command: 'cd /d "C:\\x & y" && dir' }]),
      `echo ${N} begin a & whoami /groups && echo ${N} end a ok || echo ${N} end a failed & `
      + `echo ${N} begin b-2 & cd /d "C:\\x & y" && dir && echo ${N} end b-2 ok || echo ${N} end b-2 failed`);
    assert.throws(() => batchLine(N, [{ name: 'a', command: 'dir & whoami' }]), /& or \|\|/);
    assert.throws(() => batchLine(N, [{ name: 'a', command: 'dir || whoami' }]), /& or \|\|/);
    assert.throws(() => batchLine(N, [{ name: 'A b', command: 'dir' }]), /bad part name/);
    assert.throws(() => batchLine(N, [{ name: 'a', command: `dir ${'x'.repeat(8200)}` }]), /8191/);
  });

  it('splits output by its markers: trailing blanks, CRLF, output without a final line break', () => {
    const out = `${N} begin a \r\nline 1\r\nline 2\r\n${N} end a ok \r\n${N} begin b \r\nno newline${N} end b failed \r\n${N} begin c \r\n${N} end c ok \r\n`;
    assert.deepEqual([...parseBatch(out, N)], [
      ['a', { output: 'line 1\r\nline 2', ok: true }], ['b', { output: 'no newline', ok: false }], ['c', { output: '', ok: true }],
    ]);
  });

  it('refuses output whose markers do not pair up', () => {
    const bad: Array<[string, RegExp]> = [
      [`${N} begin a\r\nx\r\n`, /part a has no end marker/],
      [`${N} end a ok\r\n`, /end of part a without its begin/],
      [`${N} begin a\r\n${N} begin b\r\n`, /part b begins inside part a/],
      [`${N} begin a\r\n${N} end a ok\r\n${N} begin a\r\n${N} end a ok\r\n`, /part a appears twice/],
      [`${N} begin a\r\n${N} end a maybe\r\n`, /does not parse/],
      [`${N} begin a\r\n${N} end b ok\r\n`, /end of part b without its begin/],
    ];
    for (const [text, re] of bad) assert.throws(() => parseBatch(text, N), re, text);
  });
});

describe('batched reads against the simulator', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'pi-winbatch-'));
  const drive = new WindowsDrive(path.join(base, 'C'));
  mkdirSync(drive.root);
  const machine = new SimulatedWindows(drive, { computerName: 'WIN-BATCH', windowsVersion: '2016' });
  after(() => rmSync(base, { recursive: true, force: true }));
  /** A guest whose commands run in the simulator; `rewrite` changes a line on the way (to make one part fail). */
  const guestFor = (rewrite: (line: string) => string = (l) => l, ran: string[] = []): WindowsGuest => {
    const commands: CommandChannel = {
      exec: async (line: string): Promise<ExecResult> => {
        ran.push(line);
        const r = await machine.execute(rewrite(line), { username: 'admin' });
        return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
      },
      close: async () => undefined,
    };
    const files = { protocol: 'sftp', description: '', reaches: () => true } as unknown as FileChannel;
    return new WindowsGuest(commands, files, 'ssh', { signal: new AbortController().signal, timeoutMs: 5000, log: () => undefined, account: '.\\admin' });
  };
  const ctx = { job: { request: { os: { family: 'windows' } } }, log: () => undefined } as unknown as JobContext;
  const installer = { version: '9.30.0.0' } as SelectedInstaller;
  const DIR = 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery';
  const rejectsWith = async (p: Promise<unknown>, code: number, what: string) => {
    await assert.rejects(p, (e: unknown) => e instanceof PushError && e.code === code && e.details.what === what);
  };

  it('one command for the agent state, prerequisites and free space; each part ok or failed, the next part runs after a failure', async () => {
    const ran: string[] = [];
    const facts = await readWindows(guestFor(undefined, ran), { agentState: true, prerequisites: true, freeSpace: ['C:\\Windows\\Temp', DIR] });
    assert.equal(ran.length, 1);
    assert.deepEqual(facts.agentState(), { installed: false, registered: false }, 'both Uninstall reads failed: not installed');
    await checkWindowsPrerequisites(ctx, facts, installer, DIR, 'admin');
    assert.ok(await facts.freeBytes(DIR) > 0);
    assert.deepEqual(machine.refusals, []);
  });

  it('a failed part fails its check as the separate command did: groups, architecture, version, free space (99020 and its what)', async () => {
    const failing = (from: string, to: string) => guestFor((l) => l.replace(from, to));
    const reads = { prerequisites: true, freeSpace: [DIR] } as const;
    await rejectsWith(checkWindowsPrerequisites(ctx, await readWindows(failing('whoami /groups /fo csv /nh', 'whoami /bogus'), reads), installer, DIR, 'admin'),
      Codes.CommandFailed, 'read the account\'s groups');
    await rejectsWith(checkWindowsPrerequisites(ctx, await readWindows(failing('/v PROCESSOR_ARCHITECTURE', '/v NO_SUCH_VALUE'), reads), installer, DIR, 'admin'),
      Codes.CommandFailed, 'read PROCESSOR_ARCHITECTURE');
    await rejectsWith(checkWindowsPrerequisites(ctx, await readWindows(failing('Windows NT\\CurrentVersion', 'Windows NT\\Nowhere'), reads), installer, DIR, 'admin'),
      Codes.CommandFailed, 'read the Windows version');
    await rejectsWith(checkWindowsPrerequisites(ctx, await readWindows(failing('dir /-c "C:"', 'dir /-c "C:\\nowhere"'), reads), installer, DIR, 'admin'),
      Codes.CommandFailed, `free space of ${DIR}`);
    machine.registry.set(ENVIRONMENT_KEY, 'PROCESSOR_ARCHITECTURE', 'x86');
    await assert.rejects(checkWindowsPrerequisites(ctx, await readWindows(guestFor(), reads), installer, DIR, 'admin'), (e: unknown) => e instanceof PushError && e.code === Codes.UnsupportedArch);
    machine.registry.set(ENVIRONMENT_KEY, 'PROCESSOR_ARCHITECTURE', 'AMD64');
  });

  it('a line that did not report every part is a command failure naming the missing part', async () => {
    const cut = guestFor((l) => l.slice(0, l.indexOf(' & echo', l.indexOf('end groups'))));
    await assert.rejects(runBatch(cut, [{ name: 'groups', command: windowsCommands.whoamiGroups() }, { name: 'os', command: windowsCommands.regQuery('HKLM\\X') }], 'read x'),
      (e: unknown) => e instanceof PushError && e.code === Codes.CommandFailed && /did not report os/.test(String(e.details.reason)));
  });
});
