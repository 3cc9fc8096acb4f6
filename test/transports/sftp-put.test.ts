// The SFTP copy with pooled read buffers (src/transports/ssh/sftp-put.ts) against a real OpenSSH
// sftp-server in a lab guest: the bytes that arrive, the mode, progress, copies sharing the pool at once,
// a server whose write limit is below the chunk (the pool must not hand a buffer on while ssh2 still
// sends from it), and failures.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SFTPWrapper } from 'ssh2';
import { CHUNK_SIZE, sftpPut } from '../../src/transports/ssh/sftp-put.ts';
import { SshChannel } from '../../src/transports/ssh/ssh-channel.ts';
import { createLinuxGuest, type LinuxGuest } from '../lab/linux-guest.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('SFTP put with pooled read buffers', () => {
  let guest: LinuxGuest;
  let dir: string;
  const files: Array<{ local: string; content: Buffer }> = [];
  const connect = () => SshChannel.connect({ host: guest.address, port: guest.port, credentials: { username: guest.users.root.name, password: guest.users.root.password }, connectTimeoutMs: 30_000 });

  /** A plain ssh2 client and its SFTP session (for what SshChannel does not let a test reach). */
  const rawSftp = async () => {
    const { Client } = (await import('ssh2')).default;
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve()).once('error', reject)
        .connect({ host: guest.address, port: guest.port, username: guest.users.root.name, password: guest.users.root.password });
    });
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((e, s) => (e ? reject(e) : resolve(s))));
    return { client, sftp };
  };

  before(async () => {
    guest = await createLinuxGuest({ name: 'sftp-put' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pi-sftp-put-'));
    // Sizes around the chunk and the in-flight window: empty, one byte, a chunk ± 1, 16 chunks + 7, 9 MiB + 3.
    for (const size of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE + 1, 16 * CHUNK_SIZE + 7, 9 * 1024 * 1024 + 3]) {
      const local = path.join(dir, `f${size}`);
      const content = randomBytes(size);
      writeFileSync(local, content);
      files.push({ local, content });
    }
  });
  after(async () => {
    await guest?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every size arrives byte for byte, mode 0600 even over an existing 0644 file, progress rising to the size', async () => {
    const ch = await connect();
    try {
      for (const { local, content } of files) {
        const remote = `/tmp/${path.basename(local)}`;
        guest.write(remote, 'an older, longer file that must be truncated '.repeat(20000), 0o644);
        const steps: number[] = [];
        await ch.put(local, remote, { onProgress: (n) => steps.push(n) });
        const arrived = readFileSync(guest.hostPath(remote));
        assert.equal(arrived.length, content.length, `size of ${remote}`);
        assert.equal(sha(arrived), sha(content), `bytes of ${remote}`);
        assert.equal(statSync(guest.hostPath(remote)).mode & 0o777, 0o600);
        assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'progress never goes back');
        if (content.length > 0) assert.equal(steps.at(-1), content.length);
      }
    } finally {
      await ch.close();
    }
  });

  it('eight copies at once, on eight sessions, share the pool and each arrives intact', async () => {
    const big = files.filter((f) => f.content.length > CHUNK_SIZE);
    await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const { local, content } = big[i % big.length]!;
      const ch = await connect();
      try {
        await ch.put(local, `/tmp/parallel-${i}`);
        assert.equal(sha(readFileSync(guest.hostPath(`/tmp/parallel-${i}`))), sha(content), `copy ${i}`);
      } finally {
        await ch.close();
      }
    }));
  });

  it('a server that takes smaller writes than a chunk: reads stay within its limit, the bytes arrive intact', async () => {
    const { client, sftp } = await rawSftp();
    try {
      // As ssh2 sets it for a server without OpenSSH's limits extension (about 33 KB), here smaller still.
      (sftp as unknown as { _maxWriteLen: number })._maxWriteLen = 10_000;
      const { local, content } = files.at(-1)!;
      let requests = 0;
      const write = sftp.write.bind(sftp);
      sftp.write = ((...args: Parameters<SFTPWrapper['write']>) => { requests++; assert.ok(args[3] <= 10_000, `a write of ${args[3]} bytes`); return write(...args); }) as SFTPWrapper['write'];
      await sftpPut(sftp, local, '/tmp/small-writes', () => undefined);
      assert.equal(sha(readFileSync(guest.hostPath('/tmp/small-writes'))), sha(content));
      assert.equal(requests, Math.ceil(content.length / 10_000));
    } finally {
      client.end();
    }
  });

  it('a connection closed under a copy whose replies stopped coming ends the copy at once (it does not wait forever)', async () => {
    const { client, sftp } = await rawSftp();
    try {
      const closed = new AbortController();
      const socket = (client as unknown as { _sock: { pause(): void } })._sock;
      let paused = false;
      const copy = sftpPut(sftp, files.at(-1)!.local, '/tmp/stalled', () => {
        if (!paused) { paused = true; socket.pause(); setTimeout(() => closed.abort(), 100); } // no reply is read any more
      }, closed.signal);
      await assert.rejects(copy, /closed during the copy/);
    } finally {
      client.destroy();
    }
  });

  it('a remote folder that does not exist, and a local file that cannot be read, fail the copy', async () => {
    const ch = await connect();
    try {
      await assert.rejects(ch.put(files[2]!.local, '/no/such/folder/x'));
      const unreadable = path.join(dir, 'missing');
      await assert.rejects(ch.put(unreadable, '/tmp/x'));
      // The channel still works after both failures.
      await ch.put(files[1]!.local, '/tmp/after-failures');
      assert.equal(readFileSync(guest.hostPath('/tmp/after-failures')).length, 1);
    } finally {
      await ch.close();
    }
  });
});
