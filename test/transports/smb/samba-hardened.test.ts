// The SMB client against hardened smbd settings: mandatory signing (HMAC-SHA256, AES-CMAC, AES-GMAC),
// SMB 3.1.1 only, and required encryption (AES-128-GCM and AES-128-CCM). Each case moves a file that
// spans many multi-credit READ/WRITEs and checks it byte for byte on the server's disk.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSamba } from '../../lab/samba.ts';
import type { SambaServer } from '../../lab/samba.ts';
import { Dialect, SmbClient, SmbError } from '../../../src/transports/smb/index.ts';
import type { SmbConnectOptions } from '../../../src/transports/smb/index.ts';

const servers: Record<string, SambaServer> = {};
const DATA = randomBytes(24 * 1024 * 1024 + 12345);
const SHA = createHash('sha256').update(DATA).digest('hex');

before(async () => {
  const [signing, smb311, encrypt, ccm] = await Promise.all([
    startSamba({ extraGlobal: ['server signing = mandatory'] }),
    startSamba({ extraGlobal: ['server min protocol = SMB3_11'] }),
    startSamba({ extraGlobal: ['server smb encrypt = required'] }),
    startSamba({ extraGlobal: ['server smb encrypt = required', 'server smb3 encryption algorithms = AES-128-CCM'] }),
  ]);
  Object.assign(servers, { signing, smb311, encrypt, ccm });
});

after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
});

async function roundTrip(s: SambaServer, o: Partial<SmbConnectOptions>): Promise<SmbClient> {
  const u = s.users[0]!;
  const c = await SmbClient.connect({ host: s.host, port: s.port, share: s.share, username: u.name, password: u.password, timeoutMs: 10000, ...o });
  const name = `rt-${c.dialect.toString(16)}-${Math.random().toString(16).slice(2)}.bin`;
  await c.writeFile(name, DATA);
  assert.equal(createHash('sha256').update(await readFile(join(s.shareDir, name))).digest('hex'), SHA, 'on the server disk');
  assert.equal(createHash('sha256').update(await c.readFile(name)).digest('hex'), SHA, 'read back');
  await c.unlink(name);
  await c.close();
  return c;
}

test('server signing = mandatory: every dialect signs (HMAC-SHA256, AES-CMAC, AES-GMAC)', async () => {
  for (const [dialect, algorithm] of [[Dialect.SMB210, 0], [Dialect.SMB302, 1], [Dialect.SMB311, 2]] as const) {
    const c = await roundTrip(servers.signing!, { dialects: [dialect] });
    assert.equal(c.dialect, dialect);
    assert.equal(c.signed, true);
    assert.equal(c.encrypted, false);
    assert.equal(c.negotiated.signingAlgorithm, algorithm);
  }
  // SMB 2.0.2 has no large MTU: 64 KiB per request, still correct.
  const old = await roundTrip(servers.signing!, { dialects: [Dialect.SMB202] });
  assert.equal(old.ioSize, 65536);
});

test('server min protocol = SMB3_11: 3.1.1 works, an older-only client is refused', async () => {
  const c = await roundTrip(servers.smb311!, {});
  assert.equal(c.dialect, Dialect.SMB311);
  const s = servers.smb311!;
  const u = s.users[0]!;
  await assert.rejects(
    SmbClient.connect({ host: s.host, port: s.port, share: s.share, username: u.name, password: u.password, timeoutMs: 5000, dialects: [Dialect.SMB210] }),
    (e: unknown) => e instanceof SmbError && e.asrCode === 95105,
  );
});

test('server smb encrypt = required: AES-128-GCM on 3.1.1, AES-128-CCM on 3.0.2', async () => {
  const gcm = await roundTrip(servers.encrypt!, {});
  assert.equal(gcm.encrypted, true);
  assert.equal(gcm.negotiated.cipher, 2);
  const ccm302 = await roundTrip(servers.encrypt!, { dialects: [Dialect.SMB302] });
  assert.equal(ccm302.encrypted, true);
  assert.equal(ccm302.negotiated.cipher, 1);
  const ccm311 = await roundTrip(servers.ccm!, {});
  assert.equal(ccm311.dialect, Dialect.SMB311);
  assert.equal(ccm311.negotiated.cipher, 1);
});

test('the client can insist on signing and encryption against a default-configured server', async () => {
  const c = await roundTrip(servers.smb311!, { requireSigning: true, requireEncryption: true });
  assert.equal(c.encrypted, true);
});
