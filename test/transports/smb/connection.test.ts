// SmbConnection against a scripted fake server: interim STATUS_PENDING replies, timeouts re-armed by
// them, credit accounting with many requests in flight, aborts, and a dropped connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { SmbConnection } from '../../../src/transports/smb/connection.ts';
import { SmbError } from '../../../src/transports/smb/errors.ts';
import { NtStatus } from '../../../src/transports/smb/ntstatus.ts';
import { Command, HeaderFlag, emptyRequest, parseHeader } from '../../../src/transports/smb/packets.ts';
import type { Header } from '../../../src/transports/smb/packets.ts';

type Script = (req: Header, reply: (o: { status?: number; credits?: number; async?: boolean }) => void) => void;

function reply(sock: Socket, req: Header, o: { status?: number; credits?: number; async?: boolean }): void {
  const msg = Buffer.alloc(64 + 4);
  msg.writeUInt32LE(0x424d53fe, 0);
  msg.writeUInt16LE(64, 4);
  msg.writeUInt16LE(req.creditCharge, 6);
  msg.writeUInt32LE(o.status ?? NtStatus.SUCCESS, 8);
  msg.writeUInt16LE(req.command, 12);
  msg.writeUInt16LE(o.credits ?? 1, 14);
  msg.writeUInt32LE(HeaderFlag.SERVER_TO_REDIR | (o.async ? HeaderFlag.ASYNC_COMMAND : 0), 16);
  msg.writeBigUInt64LE(req.messageId, 24);
  if (o.async) msg.writeBigUInt64LE(99n, 32);
  msg.writeUInt16LE(4, 64);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  sock.write(Buffer.concat([len, msg]));
}

async function fakeServer(script: Script): Promise<{ port: number; seen: Header[]; close: () => void; sockets: Socket[] }> {
  const seen: Header[] = [];
  const sockets: Socket[] = [];
  const srv = createServer((sock) => {
    sockets.push(sock);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const h = parseHeader(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        seen.push(h);
        script(h, (o) => reply(sock, h, o));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    seen,
    sockets,
    close: () => { for (const s of sockets) s.destroy(); srv.close(); },
  };
}

test('an interim STATUS_PENDING reply is followed by the final one, and re-arms the timeout', async () => {
  const srv = await fakeServer((_req, send) => {
    send({ status: NtStatus.PENDING, async: true, credits: 5 });
    setTimeout(() => send({ status: NtStatus.PENDING, async: true, credits: 0 }), 150);
    setTimeout(() => send({ async: true, credits: 1 }), 300);
  });
  try {
    const conn = await SmbConnection.open('127.0.0.1', srv.port, { timeoutMs: 200 });
    const res = await conn.request(Command.ECHO, emptyRequest());
    assert.equal(res.header.status, NtStatus.SUCCESS);
    assert.ok(res.header.flags & HeaderFlag.ASYNC_COMMAND);
    // 1 initial credit - 1 + 5 (interim) + 0 + 1 (final): four more requests go out at once.
    await Promise.all([0, 1, 2, 3, 4].map(() => conn.request(Command.ECHO, emptyRequest())));
    assert.deepEqual(srv.seen.map((h) => h.messageId), [0n, 1n, 2n, 3n, 4n, 5n]);
    conn.close();
  } finally {
    srv.close();
  }
});

test('requests wait for credits, and multi-credit requests consume message ids', async () => {
  const srv = await fakeServer((req, send) => { setTimeout(() => send({ credits: req.messageId === 0n ? 64 : req.creditCharge }), 5); });
  try {
    const conn = await SmbConnection.open('127.0.0.1', srv.port, { timeoutMs: 2000 });
    await conn.request(Command.ECHO, emptyRequest());
    conn.multiCredit = true;
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => conn.request(Command.ECHO, emptyRequest(), { creditCharge: 16 })));
    const ids = srv.seen.slice(1).map((h) => h.messageId);
    assert.deepEqual(ids, [1n, 17n, 33n, 49n, 65n, 81n, 97n, 113n]);
    assert.ok(srv.seen.slice(1).every((h) => h.creditCharge === 16));
    conn.close();
  } finally {
    srv.close();
  }
});

test('no reply: the request times out with a transient 95117 error; abort rejects at once', async () => {
  const srv = await fakeServer(() => undefined);
  try {
    const conn = await SmbConnection.open('127.0.0.1', srv.port, { timeoutMs: 5000 });
    await assert.rejects(conn.request(Command.ECHO, emptyRequest(), { timeoutMs: 100 }),
      (e: unknown) => e instanceof SmbError && e.asrCode === 95117 && e.transient);
    conn.close();
  } finally {
    srv.close();
  }
  const srv2 = await fakeServer(() => undefined);
  try {
    const conn = await SmbConnection.open('127.0.0.1', srv2.port, { timeoutMs: 5000 });
    const ac = new AbortController();
    const p = conn.request(Command.ECHO, emptyRequest(), { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e: Error) => e.name === 'AbortError');
    conn.close();
  } finally {
    srv2.close();
  }
});

test('a dropped connection fails every pending request', async () => {
  const srv = await fakeServer(() => undefined);
  try {
    const conn = await SmbConnection.open('127.0.0.1', srv.port, { timeoutMs: 5000 });
    const p = conn.request(Command.ECHO, emptyRequest());
    await new Promise((r) => setTimeout(r, 50));
    for (const s of srv.sockets) s.destroy();
    await assert.rejects(p, (e: unknown) => e instanceof SmbError && e.asrCode === 95117);
    assert.equal(conn.closed, true);
    await assert.rejects(conn.request(Command.ECHO, emptyRequest()), SmbError);
  } finally {
    srv.close();
  }
});
