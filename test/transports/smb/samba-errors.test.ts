// Failure paths against a real smbd: each maps to the ASR code of guest-contract.md (Windows step 1)
// and names the NTSTATUS, never the password.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { freePort, startSamba } from '../../lab/samba.ts';
import type { SambaServer } from '../../lab/samba.ts';
import { SmbClient, SmbError } from '../../../src/transports/smb/index.ts';
import type { SmbConnectOptions } from '../../../src/transports/smb/index.ts';

let samba: SambaServer;

before(async () => {
  samba = await startSamba({ shares: { readonly: { options: ['read only = yes'] } } });
});

after(async () => {
  await samba?.stop();
});

function opts(o: Partial<SmbConnectOptions> = {}): SmbConnectOptions {
  const u = samba.users[0]!;
  return { host: samba.host, port: samba.port, share: samba.share, username: u.name, password: u.password, timeoutMs: 5000, ...o };
}

function expectSmbError(asrCode: number, ntStatusName: string, secret?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SmbError, `expected SmbError, got ${String(e)}`);
    assert.equal(e.ntStatusName, ntStatusName);
    assert.equal(e.asrCode, asrCode);
    if (secret) {
      assert.ok(!e.message.includes(secret) && !JSON.stringify(e).includes(secret) && !String(e.stack).includes(secret), 'no password in the error');
    }
    return true;
  };
}

test('wrong password: STATUS_LOGON_FAILURE, 95107', async () => {
  const secret = 'Wrong-Secret-4711';
  await assert.rejects(SmbClient.connect(opts({ password: secret })), expectSmbError(95107, 'STATUS_LOGON_FAILURE', secret));
});

test('unknown user: STATUS_LOGON_FAILURE, 95107', async () => {
  await assert.rejects(SmbClient.connect(opts({ username: 'pitest-nobody', password: 'x' })), expectSmbError(95107, 'STATUS_LOGON_FAILURE'));
});

test('disabled account: STATUS_ACCOUNT_DISABLED, 95519', async () => {
  const user = await samba.addUser('Disabled-Pw-1');
  await samba.disableUser(user.name);
  await assert.rejects(SmbClient.connect(opts({ username: user.name, password: user.password })),
    expectSmbError(95519, 'STATUS_ACCOUNT_DISABLED', user.password));
});

test('unknown share: STATUS_BAD_NETWORK_NAME, 95105', async () => {
  await assert.rejects(SmbClient.connect(opts({ share: 'NOSUCH$' })), expectSmbError(95105, 'STATUS_BAD_NETWORK_NAME'));
});

test('writing to a read-only share: STATUS_ACCESS_DENIED, 95517', async () => {
  const c = await SmbClient.connect(opts({ share: 'readonly' }));
  try {
    await assert.rejects(c.writeFile('x.txt', 'x'), expectSmbError(95517, 'STATUS_ACCESS_DENIED'));
  } finally {
    await c.close();
  }
});

test('account forms: DOMAIN\\user, .\\user and a plain user all log on', async () => {
  const u = samba.users[0]!;
  for (const username of [`PITEST\\${u.name}`, `.\\${u.name}`, u.name]) {
    const c = await SmbClient.connect(opts({ username }));
    assert.equal((await c.freeSpace()).totalBytes > 0, true);
    await c.close();
  }
});

test('closed port: connection refused, 95105', async () => {
  const port = await freePort();
  await assert.rejects(SmbClient.connect(opts({ port })), expectSmbError(95105, 'ECONNREFUSED'));
});

test('a server that never answers: timeout, 95117', async () => {
  const sockets: Socket[] = [];
  const silent: Server = createServer((s) => { sockets.push(s); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    const t0 = Date.now();
    await assert.rejects(SmbClient.connect(opts({ port, timeoutMs: 300 })), (e: unknown) =>
      e instanceof SmbError && e.asrCode === 95117 && e.transient && e.ntStatusName === 'TIMEOUT');
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('AbortSignal cancels a connect', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(SmbClient.connect(opts({ signal: ac.signal })), (e: Error) => e.name === 'AbortError');
});
