// WinrmClient against the lab's WinRM server over HTTP: NTLM + message encryption (Windows' default
// listener), exit codes, output, stdin, OperationTimeout retries, cancel/timeout with Signal terminate,
// reconnects, and the errors the pipeline maps (95107, 95103).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PushError } from '../../../src/errors/push-error.ts';
import { cmdCommand } from '../../../src/transports/shell-quote.ts';
import { WinrmClient } from '../../../src/transports/winrm/index.ts';
import type { WinrmConnectOptions } from '../../../src/transports/transport.ts';
import { WinrmHttpTransport } from '../../../src/transports/winrm/http-transport.ts';
import { WinrmAuthError } from '../../../src/transports/winrm/errors.ts';
import { startWinrmServer } from '../../lab/winrm-server.ts';
import type { WinrmServer } from '../../lab/winrm-server.ts';
import { NON_ASCII, labCommands, until } from './lab-commands.ts';

const ADMIN_PW = 'Adm1n-Secret-4711';
const DAVE_PW = 'D@ve-Secret-0815';
const lab = labCommands();
let server: WinrmServer;
let client: WinrmClient;

function opts(o: Partial<WinrmConnectOptions> = {}): WinrmConnectOptions {
  return { host: server.host, port: server.port, transport: 'http', username: '.\\labadmin', password: ADMIN_PW, timeoutMs: 5000, ...o };
}

function pushError(code: number, secret?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof PushError, `expected a PushError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (secret) {
      for (const text of [e.message, JSON.stringify(e.details), String(e.stack), JSON.stringify(e.toJobError())]) {
        assert.ok(!text.includes(secret), 'the password must not appear in the error');
      }
    }
    return true;
  };
}

before(async () => {
  server = await startWinrmServer({
    host: '127.0.0.1', computerName: 'WIN2016', domainName: 'LAB', dnsDomainName: 'lab.test',
    users: [{ username: 'labadmin', password: ADMIN_PW }, { username: 'dave', domain: 'LAB', password: DAVE_PW }],
    execute: lab.execute,
  });
  client = await WinrmClient.connect(opts());
});

after(async () => {
  await client?.close();
  await server?.stop();
});

test('exit codes come back as the command ended, on one shell and one connection', async () => {
  const before = server.stats();
  for (const code of [0, 1, 3010, 511, 2147483647, -1]) {
    const r = await client.exec(`exit /b ${code}`);
    assert.equal(r.code, code);
  }
  const s = server.stats();
  assert.equal(s.commands - before.commands, 6);
  assert.equal(s.signals - before.signals, 6, 'each finished command released with Signal terminate');
  assert.equal(s.shells, 1, 'one shell reused for every command');
  assert.equal(client.connections, 1, 'one authenticated connection');
  assert.ok(s.encryptedMessages - before.encryptedMessages >= 12, 'every request went sealed');
  assert.equal(s.plaintextRefused, 0);
});

test('stdout and stderr, non-ASCII UTF-8 in both directions', async () => {
  const r = await client.exec('both');
  assert.deepEqual(r, { code: 2, stdout: `out ${NON_ASCII}`, stderr: `err ${NON_ASCII}` });
  const echoed = await client.exec(`echo ${NON_ASCII}`);
  assert.equal(echoed.stdout, `${NON_ASCII}\r\n`);
  assert.equal(lab.seen.at(-1)!.commandLine, `echo ${NON_ASCII}`);
});

test('the command line reaches the guest exactly as quoted for cmd.exe (XML metacharacters too)', async () => {
  const line = cmdCommand('C:\\Program Files (x86)\\Microsoft Azure Site Recovery\\agent\\UnifiedAgentConfigurator.exe',
    '/CSEndPoint', '10.0.0.4', '/PassphraseFilePath', 'C:\\Windows\\Temp\\pushinstall-1\\passphrase.txt', 'a&b<c>d\'e');
  const r = await client.exec(line);
  assert.equal(r.code, 0);
  assert.equal(lab.seen.at(-1)!.commandLine, line);
  assert.equal(r.stdout, line);
});

test('large output over many Receives, split inside multi-byte characters', async () => {
  const before = server.stats().receives;
  const r = await client.exec('emit 1500000 stdout');
  const line = `${NON_ASCII} 0123456789\r\n`;
  assert.equal(r.stdout, line.repeat(Math.ceil(1_500_000 / Buffer.byteLength(line))));
  assert.equal(r.stderr, 'done');
  assert.ok(server.stats().receives - before >= 10, `output came in ${server.stats().receives - before} Receives`);
  const e = await client.exec('emit 400000 stderr');
  assert.equal(e.stderr, line.repeat(Math.ceil(400_000 / Buffer.byteLength(line))));
});

test('stdin reaches the command and never the command line (small, empty and multi-envelope)', async () => {
  const secret = 'pässwörd <&> "quoted" ✓';
  const r = await client.exec('stdin-echo', { stdin: secret });
  assert.equal(r.stdout, secret);
  assert.ok(!lab.seen.at(-1)!.commandLine.includes('pässwörd'));
  const empty = await client.exec('stdin-echo', { stdin: '' });
  assert.equal(empty.stdout, '');
  const big = Buffer.from(`${'x'.repeat(350_000)}ü`);
  const b = await client.exec('stdin-echo', { stdin: big });
  assert.equal(b.stderr, `${big.length} bytes`);
  assert.ok(lab.seen.at(-1)!.stdin.equals(big));
});

test('OperationTimeout faults (w:TimedOut, 2150858793) are retried until the command is done', async () => {
  const c = await WinrmClient.connect(opts({ operationTimeoutMs: 150 }));
  try {
    const before = server.stats().operationTimeouts;
    const r = await c.exec('sleep 700');
    assert.deepEqual(r, { code: 0, stdout: 'slept 700', stderr: '' });
    assert.ok(server.stats().operationTimeouts - before >= 3, `${server.stats().operationTimeouts - before} OperationTimeout faults`);
  } finally {
    await c.close();
  }
});

test('abort: the command is terminated on the guest at once, then Cancelled (99008); the client goes on', async () => {
  const ac = new AbortController();
  const signalsBefore = server.stats().signals;
  const shellsBefore = server.stats().shells;
  const shellId = client.shellId;
  const p = client.exec('sleep 20000', { signal: ac.signal });
  await until(() => lab.running() === 1);
  const entry = lab.seen.at(-1)!;
  const t0 = Date.now();
  ac.abort();
  await assert.rejects(p, pushError(99008));
  assert.ok(Date.now() - t0 < 1000, `rejected after ${Date.now() - t0} ms`);
  assert.ok(entry.aborted, 'the guest saw the command terminated');
  assert.equal(server.stats().signals - signalsBefore, 1);
  const r = await client.exec('echo still here');
  assert.equal(r.stdout, 'still here\r\n');
  assert.ok(client.connections >= 2, 'the aborted request took its connection along');
  assert.equal(server.stats().shells, shellsBefore, 'no new shell after the abort');
  assert.equal(client.shellId, shellId);
});

test('an already aborted signal rejects without running anything', async () => {
  const n = server.stats().commands;
  await assert.rejects(client.exec('echo no', { signal: AbortSignal.abort() }), pushError(99008));
  assert.equal(server.stats().commands, n);
});

test('timeoutMs: Timeout (99007) and the command is terminated', async () => {
  const t0 = Date.now();
  await assert.rejects(client.exec('sleep 20000', { timeoutMs: 300 }), pushError(99007));
  assert.ok(Date.now() - t0 < 1500, `rejected after ${Date.now() - t0} ms`);
  assert.ok(lab.seen.at(-1)!.aborted);
  await until(() => lab.running() === 0);
});

test('commands queue on the one shell when called concurrently', async () => {
  const rs = await Promise.all([1, 2, 3, 4].map((i) => client.exec(`echo n${i}`)));
  assert.deepEqual(rs.map((r) => r.stdout), ['n1\r\n', 'n2\r\n', 'n3\r\n', 'n4\r\n']);
});

test('a connection the guest dropped is re-established and re-authenticated transparently', async () => {
  const c = await WinrmClient.connect(opts());
  try {
    const auths = server.stats().authentications;
    server.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await c.exec('echo again')).stdout, 'again\r\n');
    assert.equal(c.connections, 2);
    assert.equal(server.stats().authentications - auths, 1);
  } finally {
    await c.close();
  }
});

test('account forms: .\\user, HOST\\user, user + domain ".", DOMAIN\\user, UPN', async () => {
  const forms: Array<[Partial<WinrmConnectOptions>, string]> = [
    [{ username: '.\\labadmin' }, 'win2016\\labadmin'],
    [{ username: 'WIN2016\\labadmin' }, 'win2016\\labadmin'],
    [{ username: 'labadmin', domain: '.' }, 'win2016\\labadmin'],
    [{ username: 'LAB\\dave', password: DAVE_PW }, 'lab\\dave'],
    [{ username: 'dave@lab.test', password: DAVE_PW }, 'lab\\dave'],
  ];
  for (const [o, who] of forms) {
    const c = await WinrmClient.connect(opts(o));
    try {
      assert.equal((await c.exec('whoami')).stdout, who, JSON.stringify(o));
    } finally {
      await c.close();
    }
  }
});

test('close deletes the shell on the guest', async () => {
  const c = await WinrmClient.connect(opts());
  const open = server.stats().openShells;
  await c.close();
  assert.equal(server.stats().openShells, open - 1);
  await assert.rejects(c.exec('echo closed'), (e: unknown) => e instanceof PushError);
});

test('wrong password: 95107 and the password appears nowhere', async () => {
  const secret = 'Wrong-Secret-9931';
  const failures = server.stats().authFailures;
  await assert.rejects(WinrmClient.connect(opts({ password: secret })), pushError(95107, secret));
  await assert.rejects(WinrmClient.connect(opts({ username: 'LAB\\nobody', password: secret })), pushError(95107, secret));
  assert.equal(server.stats().authFailures - failures, 2);
});

test('port closed: 95103', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
  });
  const t0 = Date.now();
  await assert.rejects(WinrmClient.connect(opts({ port })), (e: unknown) => {
    pushError(95103)(e);
    assert.equal((e as PushError).details.errno, 'ECONNREFUSED');
    return true;
  });
  assert.ok(Date.now() - t0 < 1000);
});

test('port open but nobody answers (filtered or hung listener): 95103 within timeoutMs', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => { sockets.push(s); }).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  try {
    const t0 = Date.now();
    await assert.rejects(WinrmClient.connect(opts({ port: (silent.address() as AddressInfo).port, timeoutMs: 300 })), pushError(95103));
    assert.ok(Date.now() - t0 < 1500, `after ${Date.now() - t0} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('cancelling connect: 99008', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => { sockets.push(s); }).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  try {
    const ac = new AbortController();
    const p = WinrmClient.connect(opts({ signal: ac.signal, port: (silent.address() as AddressInfo).port, timeoutMs: 5000 }));
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    await assert.rejects(p, pushError(99008));
    assert.ok(Date.now() - t0 < 500);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('the server refuses unencrypted SOAP over HTTP (AllowUnencrypted=false)', async () => {
  // Anonymous: 401 offering Negotiate, like Windows.
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ host: server.host, port: server.port, path: '/wsman', method: 'POST', headers: { 'Content-Type': 'application/soap+xml;charset=UTF-8' } }, resolve);
    req.on('error', reject);
    req.end('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>');
  });
  res.resume();
  assert.equal(res.statusCode, 401);
  assert.match(String(res.headers['www-authenticate']), /Negotiate/);

  // Authenticated with NTLM, body in the clear: 401 again, although the logon itself succeeded.
  const before = server.stats();
  const plain = new WinrmHttpTransport({
    host: server.host, port: server.port, https: false, encrypt: false, connectTimeoutMs: 5000,
    credentials: { username: '.\\labadmin', password: ADMIN_PW },
  });
  try {
    await assert.rejects(plain.send('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>', { timeoutMs: 5000 }),
      (e: unknown) => e instanceof WinrmAuthError && /unencrypted/.test(e.message));
  } finally {
    plain.close();
  }
  const s = server.stats();
  assert.equal(s.authentications - before.authentications, 1);
  assert.equal(s.plaintextRefused - before.plaintextRefused, 1);
  assert.equal(s.commands, before.commands);
});

test('a command the simulator cannot run fails like a process would (exit 1, reason on stderr)', async () => {
  const r = await client.exec('boom');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /simulated failure/);
});
