// The SFTP requests a guest's file channel is made of, as promises on the server's path form.
import type { SFTPWrapper } from 'ssh2';
import { isWindowsPath, splitWindowsPath } from '../windows-path.ts';
import { mapSshError } from './errors.ts';
import { sftpPut } from './sftp-put.ts';

const NO_SUCH_FILE = 2;

/** A guest path as the SFTP server takes it: POSIX paths unchanged; `C:\a\b` → `/C:/a/b` (Win32-OpenSSH). */
export function sftpPath(p: string): string {
  if (!isWindowsPath(p)) return p;
  const { drive, rest } = splitWindowsPath(p);
  return `/${drive}:/${rest.split('\\').filter(Boolean).join('/')}`;
}

type Callback<T> = (err: Error | null | undefined, value?: T) => void;

/** One SFTP session; paths are already in the server's form (sftpPath). */
export class SftpSession {
  constructor(private readonly sftp: SFTPWrapper, private readonly authFailureCode: number) {}

  /** Runs one request; its failure becomes a PushError naming `what`, "no such file" optionally undefined. */
  private call<T>(what: string, fn: (cb: Callback<T>) => void, missingOk = false): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      fn((err, value) => {
        if (!err) return resolve(value);
        if (missingOk && (err as { code?: unknown }).code === NO_SUCH_FILE) return resolve(undefined);
        const mapped = mapSshError(err, 'copy', this.authFailureCode);
        mapped.details.what = what;
        reject(mapped);
      });
    });
  }

  async exists(p: string): Promise<boolean> {
    return (await this.call(`look for ${p}`, (cb) => this.sftp.stat(p, cb), true)) !== undefined;
  }

  async mkdirp(p: string): Promise<void> {
    const parts = p.split('/').filter(Boolean);
    // `/C:/a/b`: the drive itself is no folder to create.
    const first = /^[A-Za-z]:$/.test(parts[0] ?? '') ? 2 : 1;
    for (let i = first; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!(await this.exists(dir))) await this.call(`create ${dir}`, (cb) => this.sftp.mkdir(dir, cb));
    }
  }

  async readFile(p: string): Promise<Buffer> {
    return (await this.call<Buffer>(`read ${p}`, (cb) => this.sftp.readFile(p, cb))) as Buffer;
  }

  async remove(p: string): Promise<void> {
    await this.call(`delete ${p}`, (cb) => this.sftp.unlink(p, cb), true);
  }

  async removeTree(p: string): Promise<void> {
    const st = await this.call<{ isDirectory(): boolean }>(`look for ${p}`, (cb) => this.sftp.lstat(p, cb), true);
    if (!st) return;
    if (!st.isDirectory()) return this.remove(p);
    const entries = (await this.call<Array<{ filename: string }>>(`list ${p}`, (cb) => this.sftp.readdir(p, cb), true)) ?? [];
    for (const e of entries) {
      if (e.filename !== '.' && e.filename !== '..') await this.removeTree(`${p}/${e.filename}`);
    }
    await this.call(`delete ${p}`, (cb) => this.sftp.rmdir(p, cb), true);
  }

  /** Parallel copy of a local file (mode 0600, see sftpPut); errors are left to the caller to map. */
  put(localPath: string, p: string, step: (transferred: number) => void, closed?: AbortSignal): Promise<void> {
    return sftpPut(this.sftp, localPath, p, step, closed);
  }

  /** Writes a small file (mode 0600); errors are left to the caller to map. */
  writeFile(p: string, content: string | Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.sftp.writeFile(p, content, { mode: 0o600 }, (err) => (err ? reject(err) : resolve()));
    });
  }

  end(): void {
    this.sftp.end();
  }
}
