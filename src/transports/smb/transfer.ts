// Bulk file transfer over an SmbClient: many READ/WRITE requests in flight (credits and large MTU),
// file data read straight into the WRITE packet (no extra copy), progress, AbortSignal, and no
// half-written file left behind on failure.
import { open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { OpOptions, SmbFile, SmbFileIo } from './types.ts';
import { SmbError } from './errors.ts';
import { NtStatus } from './ntstatus.ts';
import {
  Access, Command, CreateOption, Disposition, ShareAccess, WRITE_DATA_OFFSET, writePacket, parseReadResponse,
  parseWriteResponse, readRequest,
} from './packets.ts';

export interface PutOptions extends OpOptions {
  /** Called after each acknowledged chunk with bytes done and the total. */
  onProgress?: (done: number, total: number) => void;
}
export type GetOptions = PutOptions;

export interface TransferResult {
  bytes: number;
}

const WRITE_ACCESS =
  Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA | Access.FILE_WRITE_ATTRIBUTES | Access.FILE_READ_ATTRIBUTES |
  Access.DELETE | Access.READ_CONTROL | Access.SYNCHRONIZE;
const READ_ACCESS = Access.FILE_READ_DATA | Access.FILE_READ_ATTRIBUTES | Access.READ_CONTROL | Access.SYNCHRONIZE;

function credits(len: number): number {
  return Math.max(1, Math.ceil(len / 65536));
}

/** Runs `task(offset, length)` over [0, size) in `chunk`-sized pieces, at most `parallel` at a time. */
async function pipeline(size: number, chunk: number, parallel: number, task: (offset: number, len: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const inflight = new Set<Promise<void>>();
  while (next < size || inflight.size > 0) {
    while (!failed && next < size && inflight.size < parallel) {
      const offset = next;
      const len = Math.min(chunk, size - offset);
      next += len;
      const p: Promise<void> = task(offset, len)
        .catch((error: unknown) => { failed ??= { error }; })
        .finally(() => { inflight.delete(p); });
      inflight.add(p);
    }
    if (inflight.size === 0) break;
    await Promise.race(inflight);
  }
  if (failed) throw failed.error;
}

async function writeChunks(client: SmbFileIo, file: SmbFile, size: number, o: PutOptions,
  fill: (packet: Buffer, at: number, offset: number, len: number) => Promise<void>): Promise<void> {
  let done = 0;
  // Packet buffers are reused once their WRITE is answered (the bytes are on the wire by then):
  // fresh 1 MiB buffers for every chunk cost page faults that showed in the benchmark.
  const pool: Buffer[] = [];
  await pipeline(size, client.ioSize, client.parallelIo, async (offset, len) => {
    const packet = writePacket(file.fileId, offset, len, pool.pop() ?? Buffer.allocUnsafe(WRITE_DATA_OFFSET + client.ioSize));
    await fill(packet, WRITE_DATA_OFFSET, offset, len);
    // If this throws (abort, timeout) the packet may still sit in the socket's queue: it is not reused.
    const res = await client.requestPacket(Command.WRITE, packet, { signal: o.signal, timeoutMs: o.timeoutMs, creditCharge: credits(len) });
    pool.push(Buffer.from(packet.buffer, packet.byteOffset, WRITE_DATA_OFFSET + client.ioSize));
    if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, `write at ${offset}`);
    const written = parseWriteResponse(res.msg);
    if (written !== len) throw new SmbError(`short write at ${offset}: ${written} of ${len} bytes`);
    done += len;
    o.onProgress?.(done, size);
  });
}

/** Creates/overwrites `remotePath` and writes `size` bytes produced by `fill`; deletes it on failure. */
async function writeRemote(client: SmbFileIo, remotePath: string, size: number, o: PutOptions,
  fill: (packet: Buffer, at: number, offset: number, len: number) => Promise<void>): Promise<void> {
  const file = await client.open(remotePath, {
    desiredAccess: WRITE_ACCESS,
    shareAccess: ShareAccess.READ,
    disposition: Disposition.OVERWRITE_IF,
    options: CreateOption.NON_DIRECTORY_FILE | CreateOption.SEQUENTIAL_ONLY,
  }, o);
  const cleanupOpts = { timeoutMs: o.timeoutMs };
  try {
    await writeChunks(client, file, size, o, fill);
  } catch (e) {
    // Leave no truncated installer behind: delete on close, then close.
    await client.setDeletePending(file, cleanupOpts).catch(() => undefined);
    await client.closeFile(file, cleanupOpts).catch(() => undefined);
    throw e;
  }
  await client.closeFile(file, cleanupOpts);
}

export async function putFile(client: SmbFileIo, localPath: string, remotePath: string, o: PutOptions = {}): Promise<TransferResult> {
  const fh = await open(localPath, 'r');
  try {
    const size = (await fh.stat()).size;
    await writeRemote(client, remotePath, size, o, async (packet, at, offset, len) => {
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(packet, at + got, len - got, offset + got);
        if (bytesRead === 0) throw new SmbError(`local file ${localPath} shrank during the copy`);
        got += bytesRead;
      }
    });
    return { bytes: size };
  } finally {
    await fh.close();
  }
}

export async function writeFile(client: SmbFileIo, remotePath: string, data: Buffer, o: OpOptions = {}): Promise<void> {
  await writeRemote(client, remotePath, data.length, o, async (packet, at, offset, len) => {
    data.copy(packet, at, offset, offset + len);
  });
}

/** Opens `remotePath` for reading and hands each chunk (in any order) to `sink`. */
async function readRemote(client: SmbFileIo, remotePath: string, o: GetOptions,
  sink: (size: number) => Promise<(offset: number, data: Buffer) => Promise<void>>): Promise<number> {
  return client.withFile(remotePath, {
    desiredAccess: READ_ACCESS,
    shareAccess: ShareAccess.READ | ShareAccess.WRITE,
    disposition: Disposition.OPEN,
    options: CreateOption.NON_DIRECTORY_FILE | CreateOption.SEQUENTIAL_ONLY,
  }, o, async (file) => {
    const size = Number(file.create.endOfFile);
    const put = await sink(size);
    let done = 0;
    await pipeline(size, client.ioSize, client.parallelIo, async (offset, len) => {
      const res = await client.request(Command.READ, readRequest(file.fileId, offset, len),
        { signal: o.signal, timeoutMs: o.timeoutMs, creditCharge: credits(len) });
      if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, `read at ${offset}`);
      const data = parseReadResponse(res.msg);
      if (data.length !== len) throw new SmbError(`short read at ${offset}: ${data.length} of ${len} bytes (file changed?)`);
      await put(offset, data);
      done += len;
      o.onProgress?.(done, size);
    });
    return size;
  });
}

export async function readFile(client: SmbFileIo, remotePath: string, o: OpOptions = {}): Promise<Buffer> {
  let out = Buffer.alloc(0);
  await readRemote(client, remotePath, o, async (size) => {
    out = Buffer.allocUnsafe(size);
    return async (offset, data) => { data.copy(out, offset); };
  });
  return out;
}

export async function getFile(client: SmbFileIo, remotePath: string, localPath: string, o: GetOptions = {}): Promise<TransferResult> {
  let fh: FileHandle | undefined;
  try {
    const bytes = await readRemote(client, remotePath, o, async () => {
      fh = await open(localPath, 'w');
      const handle = fh;
      return async (offset, data) => {
        let put = 0;
        while (put < data.length) put += (await handle.write(data, put, data.length - put, offset + put)).bytesWritten;
      };
    });
    await fh?.close();
    fh = undefined;
    return { bytes };
  } catch (e) {
    await fh?.close().catch(() => undefined);
    if (fh) await rm(localPath, { force: true });
    throw e;
  }
}
