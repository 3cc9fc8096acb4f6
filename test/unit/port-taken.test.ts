// A lab server (or the embedded Redis) that starts on a port chosen by freePort() must not take another
// process's listener for its own: the port can be taken between the choice and the bind.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRedisServer } from '../../src/redis/embedded.ts';
import { portOwner } from '../lab/port-owner.ts';
import { startSamba } from '../lab/samba.ts';

describe('a port taken by another process', () => {
  let squatter: net.Server;
  let port = 0;
  const dirs: string[] = [];
  before(async () => {
    squatter = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    port = (squatter.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => squatter.close(r));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('portOwner tells our listener from another process\'s and from none', async () => {
    assert.equal(portOwner(process.pid, port), 'ours');
    assert.equal(portOwner(1, port), 'foreign');
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const freed = (free.address() as net.AddressInfo).port;
    await new Promise((r) => free.close(r));
    assert.equal(portOwner(process.pid, freed), 'none');
  });

  it('smbd imposed on a taken port fails to start and says why, instead of serving through the squatter', async () => {
    await assert.rejects(startSamba({ port }), /taken by another process|Address already in use|No sockets available/);
  });

  it('embedded redis-server on a taken port fails naming the cause; on a chosen port it is our own process', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pitest-redis-port-'));
    dirs.push(dir);
    await assert.rejects(startRedisServer(path.join(dir, 'a'), { port }), /Address already in use/);
    const own = await startRedisServer(path.join(dir, 'b'));
    try {
      assert.equal(portOwner(own.pid, own.port), 'ours');
    } finally {
      await own.stop();
    }
  });
});
