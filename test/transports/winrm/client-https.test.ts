// WinrmClient over HTTPS (5986-style listener, self-signed certificate made with the openssl CLI): the
// certificate reaches the caller's pin check before any credential is sent, its fingerprint is the one
// openssl prints, a mismatch fails with whatever the verifier throws, and NTLM runs without message
// encryption inside TLS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Codes } from '../../../src/errors/catalogue.ts';
import { PushError } from '../../../src/errors/push-error.ts';
import { WinrmClient } from '../../../src/transports/winrm/index.ts';
import type { WinrmConnectOptions } from '../../../src/transports/transport.ts';
import { must } from '../../lab/exec.ts';
import { startWinrmServer } from '../../lab/winrm-server.ts';
import type { WinrmServer } from '../../lab/winrm-server.ts';
import { labCommands } from './lab-commands.ts';

const PASSWORD = 'Tls-Secret-2718';
let dir: string;
let server: WinrmServer;
let opensslFingerprint: string;
let certPem: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'winrm-https-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  await must('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=win2019.lab.test', '-addext', 'subjectAltName=DNS:win2019.lab.test,IP:127.0.0.1', '-keyout', key, '-out', cert]);
  // "sha256 Fingerprint=AB:CD:..." -- the form operators compare against.
  opensslFingerprint = (await must('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'])).trim().replace(/^.*=/, '');
  certPem = await readFile(cert, 'utf8');
  server = await startWinrmServer({
    host: '127.0.0.1', https: { key: await readFile(key, 'utf8'), cert: certPem }, computerName: 'WIN2019',
    users: [{ username: 'labadmin', password: PASSWORD }], execute: labCommands().execute,
  });
});

after(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function opts(o: Partial<WinrmConnectOptions> = {}): WinrmConnectOptions {
  return {
    host: server.host, port: server.port, transport: 'https', username: '.\\labadmin', password: PASSWORD, timeoutMs: 5000,
    verifyCertificate: async () => undefined, ...o,
  };
}

test('https: the pin check sees the certificate (openssl fingerprint, PEM); commands run without message encryption', async () => {
  const seen: Array<{ fingerprint: string; pem: string }> = [];
  const client = await WinrmClient.connect(opts({ verifyCertificate: async (fingerprint, pem) => { seen.push({ fingerprint, pem }); } }));
  try {
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.fingerprint, opensslFingerprint);
    assert.equal(seen[0]!.pem.trim(), certPem.trim());
    const r = await client.exec('both');
    assert.equal(r.code, 2);
    assert.match(r.stdout, /Grüße/);
    assert.equal((await client.exec('stdin-echo', { stdin: 'over tls' })).stdout, 'over tls');
    assert.equal(server.stats().encryptedMessages, 0, 'TLS protects the body; no NTLM sealing on https');
    // A reconnect is a new TLS connection: pinned again before anything is sent.
    server.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await client.exec('echo again')).stdout, 'again\r\n');
    assert.equal(seen.length, 2);
  } finally {
    await client.close();
  }
});

test('https: a certificate that does not match the pin fails with the verifier\'s error, before any logon', async () => {
  const pinned = 'AA:'.repeat(31) + 'AA';
  const auths = server.stats().authentications;
  let thrown: PushError | undefined;
  await assert.rejects(WinrmClient.connect(opts({
    verifyCertificate: async (fingerprint) => {
      if (fingerprint !== pinned) {
        thrown = new PushError(Codes.CertificateMismatch, { pinned, presented: fingerprint });
        throw thrown;
      }
    },
  })), (e: unknown) => {
    assert.ok(thrown !== undefined && e === thrown, 'the verifier\'s own error');
    assert.equal((e as PushError).code, 99024);
    return true;
  });
  assert.equal(server.stats().authentications, auths, 'no NTLM exchange with an unpinned server');
});

test('https: a verifier that throws a plain Error: that very error reaches the caller', async () => {
  const refusal = new Error('not the pinned certificate');
  await assert.rejects(WinrmClient.connect(opts({ verifyCertificate: async () => { throw refusal; } })), (e: unknown) => e === refusal);
});

test('https: wrong password is 95107; https without a verifier is refused', async () => {
  await assert.rejects(WinrmClient.connect(opts({ password: 'nope-nope' })), (e: unknown) => e instanceof PushError && e.code === 95107);
  const { verifyCertificate: _omit, ...noVerifier } = opts();
  await assert.rejects(WinrmClient.connect(noVerifier), /verifyCertificate/);
});

test('https client against a plain-HTTP port: 95103 (TLS handshake fails)', async () => {
  const plain = await startWinrmServer({ host: '127.0.0.1', computerName: 'X', users: [], execute: labCommands().execute });
  try {
    await assert.rejects(WinrmClient.connect(opts({ port: plain.port })), (e: unknown) => e instanceof PushError && e.code === 95103);
  } finally {
    await plain.stop();
  }
});
