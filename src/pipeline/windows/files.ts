import type { SFTPWrapper } from 'ssh2';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { SmbClient } from '../../transports/smb/index.ts';
import { mapSshError } from '../../transports/ssh/ssh-channel.ts';
import type { GuestChannel } from '../../transports/transport.ts';
import { smbToPushError } from './smb-errors.ts';

/**
 * Files on a Windows guest, by Windows path (`C:\Windows\Temp\...`): over SMB (the admin share C$) when
 * commands go over WinRM, over SFTP when the guest is reached through OpenSSH.
 */
export interface WindowsFiles {
  readonly kind: 'smb' | 'sftp';
  mkdirp(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  put(localPath: string, remotePath: string, onProgress?: (done: number, total: number) => void): Promise<void>;
  writeFile(path: string, data: string | Buffer): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** A missing file is not an error. */
  unlink(path: string): Promise<void>;
  /** A missing folder is not an error. */
  deleteTree(path: string): Promise<void>;
  /** Bytes available to the account on the volume holding `path`. */
  freeBytes(path: string): Promise<number>;
  close(): Promise<void>;
}

/** `C:\a\b` → { drive: 'C', rest: 'a\b' }. */
export function splitWindowsPath(p: string): { drive: string; rest: string } {
  const m = /^([A-Za-z]):\\?(.*)$/.exec(p);
  if (!m) throw new PushError(Codes.Internal, { reason: `not an absolute Windows path: ${p}` });
  return { drive: (m[1] as string).toUpperCase(), rest: (m[2] as string).replace(/\\+$/, '') };
}

interface OpOptions { signal: AbortSignal; timeoutMs: number }

/** Files through the SMB session to `\\guest\C$` (other drives through their own admin share). */
export class SmbFiles implements WindowsFiles {
  readonly kind = 'smb';

  constructor(
    private readonly client: SmbClient,
    private readonly o: OpOptions & { openShare(share: string): Promise<SmbClient> },
  ) {}

  private rel(p: string): string {
    const { drive, rest } = splitWindowsPath(p);
    if (drive !== 'C') throw new PushError(Codes.Internal, { reason: `files are reached through C$ only, not ${drive}:` });
    return rest;
  }

  private async op<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw smbToPushError(e, what, this.o.signal);
    }
  }

  private get opts(): { signal: AbortSignal; timeoutMs: number } {
    return { signal: this.o.signal, timeoutMs: this.o.timeoutMs };
  }

  mkdirp(path: string): Promise<void> {
    return this.op(`create ${path}`, () => this.client.mkdir(this.rel(path), { ...this.opts, recursive: true }));
  }

  exists(path: string): Promise<boolean> {
    return this.op(`look for ${path}`, () => this.client.exists(this.rel(path), this.opts));
  }

  async put(localPath: string, remotePath: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    // No timeout per copy: large installers on slow links; each SMB request has its own.
    await this.op(`copy to ${remotePath}`, () => this.client.put(localPath, this.rel(remotePath), onProgress ? { signal: this.o.signal, onProgress } : { signal: this.o.signal }));
  }

  writeFile(path: string, data: string | Buffer): Promise<void> {
    return this.op(`write ${path}`, () => this.client.writeFile(this.rel(path), data, this.opts));
  }

  readFile(path: string): Promise<Buffer> {
    return this.op(`read ${path}`, () => this.client.readFile(this.rel(path), this.opts));
  }

  async unlink(path: string): Promise<void> {
    if (await this.exists(path)) await this.op(`delete ${path}`, () => this.client.unlink(this.rel(path), this.opts));
  }

  deleteTree(path: string): Promise<void> {
    return this.op(`delete ${path}`, () => this.client.deleteTree(this.rel(path), this.opts));
  }

  async freeBytes(path: string): Promise<number> {
    const { drive } = splitWindowsPath(path);
    if (drive === 'C') return this.op('read the free space of C:', async () => (await this.client.freeSpace(this.opts)).availableBytes);
    const other = await this.op(`connect to ${drive}$`, () => this.o.openShare(`${drive}$`));
    try {
      return await this.op(`read the free space of ${drive}:`, async () => (await other.freeSpace(this.opts)).availableBytes);
    } finally {
      await other.close();
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** `C:\a\b` → `/C:/a/b`, the form Win32-OpenSSH's SFTP server takes for an absolute path. */
export function sftpPath(p: string): string {
  const { drive, rest } = splitWindowsPath(p);
  return `/${drive}:/${rest.split('\\').filter(Boolean).join('/')}`;
}

const NO_SUCH_FILE = 2;

/** Files over SFTP on a Windows guest reached through OpenSSH (no SMB needed). */
export class SftpFiles implements WindowsFiles {
  readonly kind = 'sftp';

  constructor(
    private readonly channel: GuestChannel,
    private readonly sftp: SFTPWrapper,
    private readonly o: OpOptions & { freeBytes(path: string): Promise<number> },
  ) {}

  private call<T>(what: string, fn: (cb: (err: Error | null | undefined, value?: T) => void) => void, missingOk = false): Promise<T | undefined> {
    if (this.o.signal.aborted) return Promise.reject(new PushError(Codes.Cancelled));
    return new Promise((resolve, reject) => {
      fn((err, value) => {
        if (!err) return resolve(value);
        if (missingOk && (err as { code?: unknown }).code === NO_SUCH_FILE) return resolve(undefined);
        const mapped = mapSshError(err, 'copy', Codes.WindowsCredentials);
        mapped.details.what = what;
        reject(mapped);
      });
    });
  }

  async mkdirp(path: string): Promise<void> {
    const parts = sftpPath(path).split('/').filter(Boolean);
    for (let i = 2; i <= parts.length; i++) {
      const p = `/${parts.slice(0, i).join('/')}`;
      const st = await this.call(`look for ${p}`, (cb) => this.sftp.stat(p, cb), true);
      if (!st) await this.call(`create ${p}`, (cb) => this.sftp.mkdir(p, cb));
    }
  }

  async exists(path: string): Promise<boolean> {
    const p = sftpPath(path);
    return (await this.call(`look for ${p}`, (cb) => this.sftp.stat(p, cb), true)) !== undefined;
  }

  put(localPath: string, remotePath: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    return this.channel.put(localPath, sftpPath(remotePath), onProgress ? { signal: this.o.signal, onProgress } : { signal: this.o.signal });
  }

  writeFile(path: string, data: string | Buffer): Promise<void> {
    return this.channel.writeFile(sftpPath(path), data, { signal: this.o.signal });
  }

  async readFile(path: string): Promise<Buffer> {
    const p = sftpPath(path);
    return (await this.call<Buffer>(`read ${p}`, (cb) => this.sftp.readFile(p, cb))) as Buffer;
  }

  async unlink(path: string): Promise<void> {
    const p = sftpPath(path);
    await this.call(`delete ${p}`, (cb) => this.sftp.unlink(p, cb), true);
  }

  async deleteTree(path: string): Promise<void> {
    await this.removeTree(sftpPath(path));
  }

  private async removeTree(p: string): Promise<void> {
    const st = await this.call<{ isDirectory(): boolean }>(`look for ${p}`, (cb) => this.sftp.lstat(p, cb), true);
    if (!st) return;
    if (!st.isDirectory()) {
      await this.call(`delete ${p}`, (cb) => this.sftp.unlink(p, cb), true);
      return;
    }
    const entries = (await this.call<Array<{ filename: string }>>(`list ${p}`, (cb) => this.sftp.readdir(p, cb), true)) ?? [];
    for (const e of entries) {
      if (e.filename !== '.' && e.filename !== '..') await this.removeTree(`${p}/${e.filename}`);
    }
    await this.call(`delete ${p}`, (cb) => this.sftp.rmdir(p, cb), true);
  }

  freeBytes(path: string): Promise<number> {
    return this.o.freeBytes(path);
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}
