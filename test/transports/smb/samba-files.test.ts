// The SMB client against a real smbd with Samba's default settings: file operations, a 200 MiB
// round trip checked by SHA-256 and by smbclient, cancellation, and free space against df.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSamba } from '../../lab/samba.ts';
import type { SambaServer } from '../../lab/samba.ts';
import { SmbClient } from '../../../src/transports/smb/index.ts';

const execFileP = promisify(execFile);
const BIG = 200 * 1024 * 1024;

let samba: SambaServer;
let client: SmbClient;
let work: string;
let bigPath: string;
let bigSha: string;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function connect(extra: Partial<Parameters<typeof SmbClient.connect>[0]> = {}): Promise<SmbClient> {
  const u = samba.users[0]!;
  return SmbClient.connect({ host: samba.host, port: samba.port, share: samba.share, username: u.name, password: u.password, timeoutMs: 10000, ...extra });
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pitest-smbfiles-'));
  bigPath = join(work, 'big.bin');
  const data = randomBytes(BIG);
  bigSha = createHash('sha256').update(data).digest('hex');
  await writeFile(bigPath, data);
  samba = await startSamba();
  client = await connect();
});

after(async () => {
  await client?.close();
  await samba?.stop();
  await rm(work, { recursive: true, force: true });
});

test('Samba defaults: SMB 3.1.1 is negotiated, unsigned and unencrypted unless asked', () => {
  assert.equal(client.dialect, 0x0311);
  assert.equal(client.signed, false);
  assert.equal(client.encrypted, false);
  assert.ok(client.ioSize >= 1 << 20, 'large MTU in use');
});

test('a 200 MiB file is written and read back intact, also by smbclient', async () => {
  let progressCalls = 0;
  let last = 0;
  const res = await client.put(bigPath, 'big.bin', {
    onProgress: (done, total) => { progressCalls++; last = done; assert.equal(total, BIG); },
  });
  assert.equal(res.bytes, BIG);
  assert.equal(last, BIG);
  assert.ok(progressCalls >= BIG / client.ioSize);
  assert.equal(await sha256File(join(samba.shareDir, 'big.bin')), bigSha, 'bytes on the server disk');

  const back = join(work, 'back.bin');
  await client.get('big.bin', back);
  assert.equal(await sha256File(back), bigSha, 'read back with our client');

  const viaSmbclient = join(work, 'smbclient.bin');
  const u = samba.users[0]!;
  await execFileP('smbclient', ['-p', String(samba.port), `//127.0.0.1/${samba.share}`, '-U', u.name, '-c', `get big.bin ${viaSmbclient}`],
    { env: { ...process.env, PASSWD: u.password } });
  assert.equal(await sha256File(viaSmbclient), bigSha, 'read back with smbclient');
});

test('1-byte and 0-byte files, and overwrite truncates', async () => {
  await client.writeFile('one.txt', Buffer.from('x'));
  assert.deepEqual(await client.readFile('one.txt'), Buffer.from('x'));
  assert.equal((await stat(join(samba.shareDir, 'one.txt'))).size, 1);

  await client.writeFile('zero.txt', Buffer.alloc(0));
  assert.equal((await client.readFile('zero.txt')).length, 0);
  assert.deepEqual(await client.stat('zero.txt'), { size: 0, isDirectory: false });

  const empty = join(work, 'empty.bin');
  await writeFile(empty, '');
  assert.equal((await client.put(empty, 'zero2.bin')).bytes, 0);
  assert.equal((await stat(join(samba.shareDir, 'zero2.bin'))).size, 0);

  await client.writeFile('over.txt', Buffer.alloc(300_000, 'a'));
  await client.writeFile('over.txt', 'passphrase-123');
  assert.equal((await client.readFile('over.txt')).toString(), 'passphrase-123');
  assert.equal(await readFile(join(samba.shareDir, 'over.txt'), 'utf8'), 'passphrase-123');
});

test('mkdir -p, readdir and deleting a whole tree', async () => {
  await client.mkdir('Temp/ASR/Extracted/sub', { recursive: true });
  await client.mkdir('Temp/ASR/Extracted/sub', { recursive: true }); // existing is fine
  await assert.rejects(client.mkdir('Temp/ASR'), (e: Error & { ntStatusName?: string }) => e.ntStatusName === 'STATUS_OBJECT_NAME_COLLISION');
  await client.writeFile('Temp/ASR/a.txt', 'a');
  await client.writeFile('Temp/ASR/Extracted/b.txt', 'b');
  await client.writeFile('Temp/ASR/Extracted/sub/c.txt', 'c');
  const names = (await client.readdir('Temp/ASR')).map((e) => `${e.name}${e.isDirectory ? '/' : ''}`).sort();
  assert.deepEqual(names, ['Extracted/', 'a.txt']);

  await client.deleteTree('Temp/ASR');
  assert.equal(await client.exists('Temp/ASR'), false);
  assert.equal(await client.exists('Temp'), true);
  await assert.rejects(stat(join(samba.shareDir, 'Temp', 'ASR')), { code: 'ENOENT' });
  await client.deleteTree('Temp/ASR'); // a missing tree is not an error
  await client.unlink('one.txt');
  assert.equal(await client.exists('one.txt'), false);
});

test('cancelling a put mid-write rejects, leaves no partial file, and the session stays usable', async () => {
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(
    client.put(bigPath, 'cancelled.bin', {
      signal: ac.signal,
      onProgress: (done) => { seen = done; if (done >= 20 * 1024 * 1024) ac.abort(); },
    }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.ok(seen >= 20 * 1024 * 1024 && seen < BIG, `aborted mid-way (${seen} bytes acknowledged)`);
  assert.equal(await client.exists('cancelled.bin'), false);
  await assert.rejects(stat(join(samba.shareDir, 'cancelled.bin')), { code: 'ENOENT' });
  await client.writeFile('after-cancel.txt', 'still works');
  assert.equal((await client.readFile('after-cancel.txt')).toString(), 'still works');

  const already = new AbortController();
  already.abort();
  await assert.rejects(client.put(bigPath, 'never.bin', { signal: already.signal }), (e: Error) => e.name === 'AbortError');
});

test('free space on the share matches df', async () => {
  const fs = await client.freeSpace();
  const { stdout } = await execFileP('df', ['-B1', '--output=size,avail', samba.shareDir]);
  const [size, avail] = stdout.trim().split('\n')[1]!.trim().split(/\s+/).map(Number) as [number, number];
  assert.ok(Math.abs(fs.totalBytes - size) <= size * 0.001, `total ${fs.totalBytes} vs df ${size}`);
  // Other processes write meanwhile: allow 256 MiB of drift on the free space.
  assert.ok(Math.abs(fs.availableBytes - avail) <= 256 * 1024 * 1024, `available ${fs.availableBytes} vs df ${avail}`);
  assert.ok(fs.freeBytes >= fs.availableBytes);
});
