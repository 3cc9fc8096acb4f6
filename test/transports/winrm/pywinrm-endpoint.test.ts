// Cross-check of our WinRM *client* with independent code: pywinrm-endpoint.py verifies our NTLMv2
// proof and MIC with ntlm-auth's hashes, unseals our requests and seals its replies with ntlm-auth's
// SessionSecurity, and frames with pywinrm's own encryption.py. Its WS-Man replies are canned, so this
// checks authentication, key exchange, sealing order and sequence numbers, framing and envelopes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PushError } from '../../../src/errors/push-error.ts';
import { WinrmClient } from '../../../src/transports/winrm/index.ts';
import { until } from './lab-commands.ts';
import { PYTHON, pythonEnv } from './pywinrm.ts';

const PASSWORD = 'Endpoint-Secret-1414';
let dir: string;
let endpoint: ChildProcessWithoutNullStreams;
let port: number;
const events: Array<Record<string, unknown>> = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'winrm-pyep-'));
  const env = await pythonEnv(dir, { WINRM_PASSWORD: PASSWORD });
  endpoint = spawn(PYTHON, [path.join(path.dirname(new URL(import.meta.url).pathname), 'pywinrm-endpoint.py')], { env });
  let stderr = '';
  endpoint.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    endpoint.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^PORT (\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
        else if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    endpoint.on('exit', (code) => reject(new Error(`pywinrm-endpoint.py exited ${code}: ${stderr}`)));
  });
});

after(async () => {
  endpoint?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('our client against pywinrm/ntlm-auth code: logon, sealed requests and replies, fault retry, stdin, exit code', async () => {
  const client = await WinrmClient.connect({ host: '127.0.0.1', port, transport: 'http', username: '.\\labadmin', password: PASSWORD, timeoutMs: 5000 });
  try {
    for (const stdin of ['first secret ✓', 'second']) {
      const r = await client.exec('"C:\\Program Files\\x.exe" /q & echo <done>', { stdin });
      assert.equal(r.code, 42);
      assert.equal(r.stderr, 'py-stderr ✓');
      assert.deepEqual(JSON.parse(r.stdout), { command: '"C:\\Program Files\\x.exe" /q & echo <done>', stdin, user: 'labadmin', domain: 'PYWINRM' });
    }
  } finally {
    await client.close();
  }
  // The endpoint's log lines come over a pipe, independently of the HTTP replies.
  await until(() => events.some((e) => e.action === 'Delete'));
  const soap = events.filter((e) => e.event === 'soap').map((e) => e.action);
  assert.deepEqual(soap, ['Create', 'Command', 'Send', 'Receive', 'Receive', 'Signal', 'Command', 'Send', 'Receive', 'Receive', 'Signal', 'Delete']);
  const create = events.find((e) => e.event === 'soap' && e.action === 'Create')!;
  assert.deepEqual(create.options, { WINRS_NOPROFILE: 'TRUE', WINRS_CODEPAGE: '65001' });
  assert.equal(events.filter((e) => e.event === 'authenticated').length, 1);
  assert.equal(events.filter((e) => e.event === 'plaintext-refused').length, 0);
});

test('a wrong password is refused by the independent endpoint: 95107', async () => {
  await assert.rejects(
    WinrmClient.connect({ host: '127.0.0.1', port, transport: 'http', username: 'labadmin', password: 'not-it', timeoutMs: 5000 }),
    (e: unknown) => e instanceof PushError && e.code === 95107 && !e.message.includes('not-it'),
  );
  await until(() => events.some((e) => e.event === 'auth-failed'));
});
