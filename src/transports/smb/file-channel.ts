// The file channel of a Windows guest whose commands go over WinRM: its C: drive through the admin
// share C$ (guest-contract.md, Windows step 1), by Windows path.
import type { FileChannel, FileOptions, PutOptions, SmbFilesOptions } from '../transport.ts';
import { isWindowsPath, splitWindowsPath } from '../windows-path.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { SmbClient } from './client.ts';
import { smbToPushError } from './push-errors.ts';

export const ADMIN_SHARE = 'C$';

async function openShare(o: SmbFilesOptions, share: string, signal: AbortSignal | undefined): Promise<SmbClient> {
  try {
    return await SmbClient.connect({
      host: o.host, port: o.port, share, username: o.username, password: o.password, domain: o.domain, timeoutMs: o.timeoutMs, signal,
    });
  } catch (e) {
    throw smbToPushError(e, 'connect', signal);
  }
}

/** Files through the SMB session to `\\guest\C$`; the free space of other drives through their own admin share. */
export class SmbFileChannel implements FileChannel {
  readonly protocol = 'smb';

  private constructor(private readonly client: SmbClient, private readonly options: SmbFilesOptions) {}

  static async connect(options: SmbFilesOptions): Promise<SmbFileChannel> {
    return new SmbFileChannel(await openShare(options, ADMIN_SHARE, options.signal), options);
  }

  /** e.g. `\\host\C$, dialect 0x311, encrypted`. */
  get description(): string {
    const c = this.client;
    return `\\\\${this.options.host}\\${c.share}, dialect 0x${c.dialect.toString(16)}${c.encrypted ? ', encrypted' : c.signed ? ', signed' : ''}`;
  }

  reaches(path: string): boolean {
    return isWindowsPath(path) && splitWindowsPath(path).drive === 'C';
  }

  /** The path inside C$. */
  private rel(p: string): string {
    const { drive, rest } = splitWindowsPath(p);
    if (drive !== 'C') throw new PushError(Codes.Internal, { reason: `files are reached through C$ only, not ${drive}:` });
    return rest;
  }

  private async op<T>(what: string, o: FileOptions, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw smbToPushError(e, what, o.signal);
    }
  }

  mkdirp(path: string, o: FileOptions = {}): Promise<void> {
    return this.op(`create ${path}`, o, () => this.client.mkdir(this.rel(path), { ...o, recursive: true }));
  }

  exists(path: string, o: FileOptions = {}): Promise<boolean> {
    return this.op(`look for ${path}`, o, () => this.client.exists(this.rel(path), o));
  }

  async put(localPath: string, remotePath: string, o: PutOptions = {}): Promise<void> {
    await this.op(`copy to ${remotePath}`, o, () => this.client.put(localPath, this.rel(remotePath), o));
  }

  writeFile(path: string, data: string | Buffer, o: FileOptions = {}): Promise<void> {
    return this.op(`write ${path}`, o, () => this.client.writeFile(this.rel(path), data, o));
  }

  readFile(path: string, o: FileOptions = {}): Promise<Buffer> {
    return this.op(`read ${path}`, o, () => this.client.readFile(this.rel(path), o));
  }

  async remove(path: string, o: FileOptions = {}): Promise<void> {
    if (await this.exists(path, o)) await this.op(`delete ${path}`, o, () => this.client.unlink(this.rel(path), o));
  }

  removeTree(path: string, o: FileOptions = {}): Promise<void> {
    return this.op(`delete ${path}`, o, () => this.client.deleteTree(this.rel(path), o));
  }

  async freeBytes(path: string, o: FileOptions = {}): Promise<number> {
    const { drive } = splitWindowsPath(path);
    if (drive === 'C') return this.op('read the free space of C:', o, async () => (await this.client.freeSpace(o)).availableBytes);
    const other = await openShare(this.options, `${drive}$`, o.signal ?? this.options.signal);
    try {
      return await this.op(`read the free space of ${drive}:`, o, async () => (await other.freeSpace(o)).availableBytes);
    } finally {
      await other.close();
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
