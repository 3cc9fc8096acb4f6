// Cross-check of the lab's WinRM server with an independent client: Debian's pywinrm over HTTP with
// NTLM and message encryption 'always' (its requests_ntlm/ntlm-auth do the NTLM, its encryption.py the
// HTTP-SPNEGO framing). If the simulator only spoke our own dialect, these would fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startWinrmServer } from '../../lab/winrm-server.ts';
import type { WinrmServer } from '../../lab/winrm-server.ts';
import { labCommands } from './lab-commands.ts';
import { b64, pythonEnv, runPywinrm } from './pywinrm.ts';

const PASSWORD = 'Py-Secret-1618';
const lab = labCommands();
let dir: string;
let env: NodeJS.ProcessEnv;
let server: WinrmServer;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'winrm-py-'));
  env = await pythonEnv(dir);
  server = await startWinrmServer({
    host: '127.0.0.1', computerName: 'WIN2016', domainName: 'LAB',
    users: [{ username: 'labadmin', password: PASSWORD }, { username: 'dave', domain: 'LAB', password: PASSWORD }],
    execute: lab.execute,
  });
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('pywinrm (NTLM, message_encryption=always) runs commands: exit code, stdout, stderr, OperationTimeout retry', async () => {
  const before = server.stats();
  const results = await runPywinrm({
    url: server.url, username: 'labadmin', operation_timeout_sec: 1, read_timeout_sec: 3,
    commands: [
      { command: 'echo', args: ['hello', 'from', 'pywinrm'] },
      { command: 'exit', args: ['/b', '3010'] },
      { command: 'both' },
      { command: 'sleep', args: ['1600'] },
    ],
  }, PASSWORD, env);
  assert.equal(results.length, 4);
  for (const r of results) assert.ok(r.ok, `${r.error}: ${r.message}`);
  assert.deepEqual([results[0]!.status_code, b64(results[0]!.stdout), b64(results[0]!.stderr)], [0, 'hello from pywinrm\r\n', '']);
  assert.equal(results[1]!.status_code, 3010);
  // pywinrm opens its shells with code page 437, so this check stays in ASCII.
  assert.equal(results[2]!.status_code, 2);
  assert.match(b64(results[2]!.stdout), /^out Gr/);
  assert.match(b64(results[2]!.stderr), /^err Gr/);
  assert.equal(b64(results[3]!.stdout), 'slept 1600');

  // pywinrm joins Command and Arguments with a space: what cmd.exe would get.
  assert.ok(lab.seen.some((s) => s.commandLine === 'echo hello from pywinrm'));
  assert.ok(lab.seen.some((s) => s.commandLine === 'exit /b 3010'));
  const s = server.stats();
  assert.ok(s.authentications - before.authentications >= 1);
  assert.ok(s.encryptedMessages - before.encryptedMessages >= 4 * 5, `${s.encryptedMessages - before.encryptedMessages} sealed requests`);
  assert.equal(s.plaintextRefused - before.plaintextRefused, 0);
  assert.ok(s.operationTimeouts - before.operationTimeouts >= 1, 'pywinrm retried at least one w:TimedOut fault');
  assert.equal(s.signals - before.signals, 4, 'pywinrm cleans every command up with Signal terminate');
  assert.equal(s.openShells, 0, 'and deletes its shells');
});

test('pywinrm with DOMAIN\\user logs on as the domain account', async () => {
  const [r] = await runPywinrm({ url: server.url, username: 'LAB\\dave', commands: [{ command: 'whoami' }] }, PASSWORD, env);
  assert.ok(r!.ok, r!.message);
  assert.equal(b64(r!.stdout), 'lab\\dave');
});

test('pywinrm with a wrong password: InvalidCredentialsError (HTTP 401)', async () => {
  const failures = server.stats().authFailures;
  const [r] = await runPywinrm({ url: server.url, username: 'labadmin', commands: [{ command: 'echo', args: ['x'] }] }, 'wrong-password', env);
  assert.equal(r!.ok, false);
  assert.equal(r!.error, 'InvalidCredentialsError');
  assert.equal(server.stats().authFailures - failures, 1);
});

test('pywinrm without message encryption is refused like Windows with AllowUnencrypted=false (401)', async () => {
  const before = server.stats();
  const [r] = await runPywinrm({ url: server.url, username: 'labadmin', message_encryption: 'never', commands: [{ command: 'echo', args: ['x'] }] }, PASSWORD, env);
  assert.equal(r!.ok, false);
  assert.equal(r!.error, 'InvalidCredentialsError');
  const s = server.stats();
  assert.ok(s.plaintextRefused - before.plaintextRefused >= 1);
  assert.equal(s.commands, before.commands, 'nothing ran');
});
