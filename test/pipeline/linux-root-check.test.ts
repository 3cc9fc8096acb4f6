// LinuxGuest's uid 0 check in front of the first command (an account that is not a sudoer): the
// commands run in a real `sh -c` on this machine, as root or as the lab's ordinary user (pilab-user), so
// the check is the shell's, not a fake's. Files are a recording stub: only their order matters here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PushError } from '../../src/errors/push-error.ts';
import { LinuxGuest } from '../../src/pipeline/linux/linux-guest.ts';
import type { CommandChannel, ExecResult, FileChannel } from '../../src/transports/transport.ts';
import { ensureLabUsers, type LabUsers } from '../lab/users.ts';

/** Runs each command line with /bin/sh as `uid`, as sshd runs an exec request with the account's shell. */
class LocalShell implements CommandChannel {
  readonly commands: string[] = [];
  failNext = false;
  constructor(private readonly uid: number) {}
  exec(command: string): Promise<ExecResult> {
    this.commands.push(command);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('channel closed'));
    }
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { uid: this.uid, gid: this.uid, cwd: '/' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  async close(): Promise<void> {}
}

function files(calls: string[]): FileChannel {
  const record = (name: string) => async (p: string) => { calls.push(`${name} ${p}`); };
  return {
    protocol: 'sftp', description: '', reaches: () => true,
    put: async (_local, remote) => { calls.push(`put ${remote}`); },
    writeFile: record('writeFile'), readFile: async (p) => { calls.push(`readFile ${p}`); return Buffer.alloc(0); },
    exists: async (p) => { calls.push(`exists ${p}`); return false; },
    mkdirp: record('mkdirp'), remove: record('remove'), removeTree: record('removeTree'), close: async () => {},
  };
}

function guestAs(uid: number, name: string, calls: string[] = []): { guest: LinuxGuest; shell: LocalShell; log: string[] } {
  const shell = new LocalShell(uid);
  const log: string[] = [];
  const guest = new LinuxGuest(shell, files(calls), { useSudo: false, confirmRoot: true, username: name, signal: new AbortController().signal, timeoutMs: 10_000, log: (l) => log.push(l) });
  return { guest, shell, log };
}

function is95108NotRoot(e: unknown, uid: number): boolean {
  assert.ok(e instanceof PushError, String(e));
  assert.equal(e.code, 95108);
  assert.equal(e.details.uid, String(uid));
  assert.match(String(e.details.reason), new RegExp(`not root \\(uid ${uid}\\) and is not set to use sudo`));
  return true;
}

describe('Linux guest: uid 0 checked in front of the first command', () => {
  let users: LabUsers;
  let dir: string;
  before(async () => {
    users = await ensureLabUsers();
    dir = mkdtempSync(path.join(os.tmpdir(), 'pi-rootcheck-'));
    chmodSync(dir, 0o777);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('as root: the first command runs behind the check in the same exec, the next ones alone', async () => {
    const { guest, shell, log } = guestAs(0, 'root');
    const first = await guest.run('echo first; exit 3');
    assert.deepEqual({ code: first.code, stdout: first.stdout }, { code: 3, stdout: 'first\n' });
    const second = await guest.run('echo second');
    assert.equal(second.stdout, 'second\n');
    assert.equal(shell.commands.length, 2, 'no separate id -u exec');
    assert.match(shell.commands[0] as string, /id -u/);
    assert.equal(shell.commands[1], 'echo second');
    assert.match(log[0] as string, /^\$ \[uid 0 first\] echo first; exit 3$/);
  });

  it('as an ordinary user: 95108 naming the uid, the command never runs, and every later call fails the same way', async () => {
    const calls: string[] = [];
    const { guest, shell } = guestAs(users.user.uid, users.user.name, calls);
    const marker = path.join(dir, 'ran');
    await assert.rejects(guest.run(`touch ${marker}`), (e) => is95108NotRoot(e, users.user.uid));
    assert.ok(!existsSync(marker), 'the command behind the check did not run');
    await assert.rejects(guest.run(`touch ${marker}`), (e) => is95108NotRoot(e, users.user.uid));
    await assert.rejects(guest.put('/etc/hostname', '/tmp/x'), (e) => is95108NotRoot(e, users.user.uid));
    assert.ok(!existsSync(marker));
    assert.equal(shell.commands.length, 1, 'one exec: the failed check');
    assert.deepEqual(calls, [], 'no file operation reached the guest');
  });

  it('a file operation before any command: the check runs first, on its own', async () => {
    const calls: string[] = [];
    const root = guestAs(0, 'root', calls);
    await root.guest.mkdirp('/tmp/stage');
    assert.equal(root.shell.commands.length, 1);
    assert.deepEqual(calls, ['mkdirp /tmp/stage']);
    await root.guest.put('/etc/hostname', '/tmp/stage/x');
    assert.equal(root.shell.commands.length, 1, 'checked once');
    const user = guestAs(users.user.uid, users.user.name, calls);
    await assert.rejects(user.guest.mkdirp('/tmp/other'), (e) => is95108NotRoot(e, users.user.uid));
    assert.deepEqual(calls, ['mkdirp /tmp/stage', 'put /tmp/stage/x']);
  });

  it('an exec that failed proves nothing: the next command is checked again', async () => {
    const { guest, shell } = guestAs(users.user.uid, users.user.name);
    shell.failNext = true;
    await assert.rejects(guest.run('true'), /channel closed/);
    await assert.rejects(guest.run('true'), (e) => is95108NotRoot(e, users.user.uid));
    assert.equal(shell.commands.length, 2);
    assert.match(shell.commands[1] as string, /id -u/);
  });

  it('a sudoer account (useSudo) is not checked this way (connect runs id -u and sudo -n true)', async () => {
    const shell = new LocalShell(0);
    const guest = new LinuxGuest(shell, files([]), { useSudo: true, confirmRoot: true, signal: new AbortController().signal, timeoutMs: 10_000, log: () => {} });
    await guest.run('echo x');
    assert.deepEqual(shell.commands, ['echo x']);
  });
});
