// Copies a local file over SFTP with up to WRITES_IN_FLIGHT write requests outstanding, reading through
// read buffers the whole process shares. ssh2's own fastPut allocates a fresh buffer of
// chunk × concurrency (4 MiB) per copy; at fleet scale those buffers are most of the external memory
// whose growth makes V8 run a full mark-compact of the daemon's heap every few pushes (measured: see
// bench/results/fleet.md). SFTP.write copies its data into the request packet before it returns, so a
// read buffer is free again as soon as write() is called, whatever the server's reply.
import { open } from 'node:fs/promises';
import type { SFTPWrapper } from 'ssh2';

/** 255 KiB: the payload OpenSSH's sftp-server takes per request with room for the header (ssh2's fastPut uses it too). */
export const CHUNK_SIZE = 261_120;
const WRITES_IN_FLIGHT = 16;
/** Read buffers kept for reuse: enough for every copy a busy worker runs at once; beyond it they are allocated and dropped. */
const POOL_MAX = 32;
const pool: Buffer[] = [];

function take(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
}

function give(buf: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buf);
}

type Handle = Buffer;

/**
 * The largest write ssh2 sends as one request on this session (OpenSSH's limits extension, else ~33 KB).
 * A longer write() would send the rest from the caller's buffer after the first reply, when the buffer
 * is back in the pool: reads never exceed it. ssh2 keeps it in a field of its own, read defensively.
 */
function writeLimit(sftp: SFTPWrapper): number {
  const limit = (sftp as unknown as { _maxWriteLen?: unknown })._maxWriteLen;
  return typeof limit === 'number' && limit > 0 ? Math.min(CHUNK_SIZE, limit) : 32_768;
}

function call<T = void>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Races every wait on the server with `closed`: a connection dropped without a reply must not leave the copy (and its open file) waiting forever. */
type Until = <T>(p: Promise<T>) => Promise<T>;

function until(closed: AbortSignal | undefined): Until {
  if (!closed) return (p) => p;
  const stop = new Promise<never>((_, reject) => {
    const fail = () => reject(Object.assign(new Error('the SSH connection was closed during the copy'), { code: 'ECONNRESET' }));
    if (closed.aborted) fail();
    else closed.addEventListener('abort', fail, { once: true });
  });
  stop.catch(() => undefined);
  return (p) => Promise.race([p, stop]);
}

/**
 * Writes `localPath` to `remotePath` (created or truncated, mode 0600 even when it existed): OPEN,
 * FSETSTAT, the writes, CLOSE. `step` hears the bytes acknowledged so far; `closed` ends the copy when
 * the connection is closed under it. Errors are the raw ssh2 or fs ones, left to the caller to map.
 */
export async function sftpPut(sftp: SFTPWrapper, localPath: string, remotePath: string, step: (transferred: number) => void, closed?: AbortSignal): Promise<void> {
  const wait = until(closed);
  const file = await open(localPath, 'r');
  try {
    const size = (await file.stat()).size;
    const handle = await wait(call<Handle>((cb) => sftp.open(remotePath, 'w', { mode: 0o600 }, cb)));
    try {
      await wait(call((cb) => sftp.fchmod(handle, 0o600, cb)));
      await writeAll(sftp, handle, file, size, step, wait);
    } catch (e) {
      await wait(call((cb) => sftp.close(handle, cb))).catch(() => undefined);
      throw e;
    }
    await wait(call((cb) => sftp.close(handle, cb)));
  } finally {
    await file.close();
  }
}

/** Reads chunk after chunk and keeps up to WRITES_IN_FLIGHT writes outstanding; the first failure ends the copy. */
async function writeAll(sftp: SFTPWrapper, handle: Handle, file: Awaited<ReturnType<typeof open>>, size: number, step: (n: number) => void, wait: Until): Promise<void> {
  const chunk = writeLimit(sftp);
  const inFlight = new Set<Promise<void>>();
  let failed: Error | null = null;
  let acknowledged = 0;
  for (let position = 0; position < size && !failed;) {
    const buf = take();
    let n: number;
    try {
      ({ bytesRead: n } = await file.read(buf, 0, Math.min(chunk, size - position), position));
      if (n === 0) throw new Error(`${size - position} bytes of the local file are missing (it shrank while being copied)`);
      const at = position;
      const write = call((cb) => sftp.write(handle, buf, 0, n, at, cb)).then(() => {
        acknowledged += n;
        step(acknowledged);
      }, (e: Error) => { failed ??= e; });
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    } finally {
      give(buf); // write() has copied it into its packet (or was not called)
    }
    position += n;
    if (inFlight.size >= WRITES_IN_FLIGHT) await wait(Promise.race(inFlight));
  }
  await wait(Promise.all(inFlight));
  if (failed) throw failed;
}
