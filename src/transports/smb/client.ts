// The SMB2/3 client the Windows transport uses: one connection, one session, one share (tree).
// Path arguments are relative to the share, with / or \ as separators.
import { SmbConnection } from './connection.ts';
import type { RequestOptions, Response } from './connection.ts';
import { AsrCode, SmbError } from './errors.ts';
import { ALL_DIALECTS, negotiate, sessionSetup } from './handshake.ts';
import type { NegotiateResult } from './handshake.ts';
import { NtStatus } from './ntstatus.ts';
import {
  Access, Command, CreateOption, Dialect, Disposition, FileInfoClass, InfoType, ShareAccess, ShareFlag, closeRequest, createRequest,
  emptyRequest, parseCreateResponse, parseDirectoryEntries, parseQueryInfoResponse, parseTreeConnectResponse,
  queryDirectoryRequest, queryInfoRequest, setInfoRequest, treeConnectRequest,
} from './packets.ts';
import type { CreateParams, DirectoryEntry } from './packets.ts';
import { getFile, putFile, readFile, writeFile } from './transfer.ts';
import type { GetOptions, PutOptions, TransferResult } from './transfer.ts';
import type { OpOptions, SmbFile, SmbFileIo } from './types.ts';

export interface SmbConnectOptions {
  host: string;
  /** TCP port, 445 by default. */
  port?: number;
  /** Share name, e.g. `C$`. */
  share: string;
  /** `DOMAIN\user`, `.\user` or `user@domain`. */
  username: string;
  password?: string;
  ntHash?: Buffer;
  domain?: string;
  workstation?: string;
  /** Per-request timeout (and connect timeout), 30 s by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Sign even if the server does not require it. */
  requireSigning?: boolean;
  /** Encrypt even if the server does not require it (needs SMB 3.x). */
  requireEncryption?: boolean;
  /** Dialects to offer (default 2.0.2 to 3.1.1). */
  dialects?: number[];
  /** Bytes per READ/WRITE (capped by the server's maximum); 1 MiB by default. */
  ioSize?: number;
  /** READ/WRITE requests kept in flight by put/get; 8 by default. */
  parallelIo?: number;
}

export interface FreeSpace {
  totalBytes: number;
  /** Free bytes available to this user (quotas applied). */
  availableBytes: number;
  /** Free bytes on the volume. */
  freeBytes: number;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
}

/** `a/b\\c` -> `a\\b\\c`, without leading or doubled separators. */
export function smbPath(p: string): string {
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new SmbError(`path must not contain "..": ${p}`, { ntStatus: NtStatus.OBJECT_NAME_INVALID });
  return parts.join('\\');
}

export class SmbClient implements SmbFileIo {
  readonly conn: SmbConnection;
  readonly negotiated: NegotiateResult;
  readonly share: string;
  readonly treeId: number;
  /** Every message of this session or share is encrypted. */
  readonly encrypted: boolean;
  /** Messages are signed (when not encrypted). */
  readonly signed: boolean;
  readonly ioSize: number;
  readonly parallelIo: number;

  private constructor(conn: SmbConnection, neg: NegotiateResult, share: string, treeId: number, encrypted: boolean,
    signed: boolean, ioSize: number, parallelIo: number) {
    this.conn = conn;
    this.negotiated = neg;
    this.share = share;
    this.treeId = treeId;
    this.encrypted = encrypted;
    this.signed = signed;
    this.ioSize = ioSize;
    this.parallelIo = parallelIo;
  }

  static async connect(o: SmbConnectOptions): Promise<SmbClient> {
    const port = o.port ?? 445;
    const timeoutMs = o.timeoutMs ?? 30000;
    const conn = await SmbConnection.open(o.host, port, { timeoutMs, signal: o.signal });
    try {
      const requireSigning = o.requireSigning ?? false;
      const neg = await negotiate(conn, { dialects: o.dialects ?? ALL_DIALECTS, requireSigning, signal: o.signal });
      const session = await sessionSetup(conn, neg, {
        username: o.username, password: o.password, ntHash: o.ntHash, domain: o.domain, workstation: o.workstation,
      }, { requireSigning, signal: o.signal });
      const signed = neg.serverSigningRequired || requireSigning;
      let encrypt = session.encryptData || (o.requireEncryption ?? false);
      if (encrypt && !session.encryptor) {
        throw new SmbError(`${o.host}: encryption needed but dialect 0x${neg.dialect.toString(16)} offers none`, {
          ntStatus: NtStatus.ACCESS_DENIED,
        });
      }
      conn.encryptor = session.encryptor;
      conn.signer = session.signer;
      conn.requireSignedResponses = signed;
      const unc = `\\\\${o.host}\\${o.share}`;
      // 3.1.1 requires a signed TREE_CONNECT on an unencrypted session (MS-SMB2 3.2.4.1.1).
      const signTree = signed || neg.dialect === Dialect.SMB311;
      const tree = await conn.request(Command.TREE_CONNECT, treeConnectRequest(unc), { signal: o.signal, sign: signTree, encrypt });
      if (tree.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(tree.header.status, `SMB share ${unc}`);
      const t = parseTreeConnectResponse(tree.msg);
      if (t.shareFlags & ShareFlag.ENCRYPT_DATA) {
        if (!session.encryptor) throw new SmbError(`share ${unc} requires encryption, which dialect 0x${neg.dialect.toString(16)} lacks`, { asrCode: AsrCode.FILE_SHARING });
        encrypt = true;
      }
      const max = conn.multiCredit ? Math.min(neg.maxReadSize, neg.maxWriteSize) : 65536;
      const ioSize = Math.max(4096, Math.min(o.ioSize ?? 1 << 20, max));
      return new SmbClient(conn, neg, o.share, tree.header.treeId, encrypt, signed, ioSize, Math.max(1, o.parallelIo ?? 8));
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  get dialect(): number {
    return this.negotiated.dialect;
  }

  /** Sends a request in this tree with the session's signing/encryption. */
  request(command: number, body: Buffer, o: OpOptions & { creditCharge?: number } = {}): Promise<Response> {
    return this.conn.request(command, body, this.reqOpts(o));
  }

  requestPacket(command: number, packet: Buffer, o: OpOptions & { creditCharge?: number } = {}): Promise<Response> {
    return this.conn.requestPacket(command, packet, this.reqOpts(o));
  }

  private reqOpts(o: OpOptions & { creditCharge?: number }): RequestOptions {
    return {
      treeId: this.treeId, signal: o.signal, timeoutMs: o.timeoutMs, creditCharge: o.creditCharge,
      encrypt: this.encrypted, sign: this.signed,
    };
  }

  async open(path: string, p: Omit<CreateParams, 'name'>, o: OpOptions = {}): Promise<SmbFile> {
    const name = smbPath(path);
    const res = await this.request(Command.CREATE, createRequest({ ...p, name }), o);
    if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, `open \\\\${this.conn.host}\\${this.share}\\${name}`);
    const create = parseCreateResponse(res.msg);
    return { fileId: create.fileId, create };
  }

  async closeFile(file: SmbFile, o: OpOptions = {}): Promise<void> {
    const res = await this.request(Command.CLOSE, closeRequest(file.fileId), o);
    if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, 'close');
  }

  /** Runs `fn` on an open handle and closes it whatever happens (the close ignores `signal`). */
  async withFile<T>(path: string, p: Omit<CreateParams, 'name'>, o: OpOptions, fn: (f: SmbFile) => Promise<T>): Promise<T> {
    const f = await this.open(path, p, o);
    try {
      return await fn(f);
    } finally {
      await this.closeFile(f, { timeoutMs: o.timeoutMs }).catch(() => undefined);
    }
  }

  async stat(path: string, o: OpOptions = {}): Promise<FileStat> {
    const f = await this.open(path, {
      desiredAccess: Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
      shareAccess: ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE,
      disposition: Disposition.OPEN, options: 0,
    }, o);
    await this.closeFile(f, { timeoutMs: o.timeoutMs }).catch(() => undefined);
    return { size: Number(f.create.endOfFile), isDirectory: (f.create.fileAttributes & 0x10) !== 0 };
  }

  async exists(path: string, o: OpOptions = {}): Promise<boolean> {
    try {
      await this.stat(path, o);
      return true;
    } catch (e) {
      if (e instanceof SmbError && (e.ntStatus === NtStatus.OBJECT_NAME_NOT_FOUND || e.ntStatus === NtStatus.OBJECT_PATH_NOT_FOUND)) return false;
      throw e;
    }
  }

  /** Creates a directory; with `recursive`, creates missing parents and accepts an existing one. */
  async mkdir(path: string, o: OpOptions & { recursive?: boolean } = {}): Promise<void> {
    const parts = smbPath(path).split('\\').filter(Boolean);
    const targets = o.recursive ? parts.map((_, i) => parts.slice(0, i + 1).join('\\')) : [parts.join('\\')];
    for (const dir of targets) {
      const f = await this.open(dir, {
        desiredAccess: Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
        shareAccess: ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE,
        disposition: o.recursive ? Disposition.OPEN_IF : Disposition.CREATE,
        options: CreateOption.DIRECTORY_FILE,
      }, o);
      await this.closeFile(f, { timeoutMs: o.timeoutMs }).catch(() => undefined);
    }
  }

  async readdir(path: string, o: OpOptions = {}): Promise<DirectoryEntry[]> {
    return this.withFile(path, {
      desiredAccess: Access.FILE_READ_DATA | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
      shareAccess: ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE,
      disposition: Disposition.OPEN, options: CreateOption.DIRECTORY_FILE,
    }, o, async (f) => {
      const out: DirectoryEntry[] = [];
      for (let first = true; ; first = false) {
        const res = await this.request(Command.QUERY_DIRECTORY, queryDirectoryRequest(f.fileId, '*', first ? 1 : 0, 65536), o);
        if (res.header.status === NtStatus.NO_MORE_FILES) break;
        if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, `list ${path}`);
        out.push(...parseDirectoryEntries(res.msg).filter((e) => e.name !== '.' && e.name !== '..'));
      }
      return out;
    });
  }

  /** Deletes one file (or, with `directory`, one empty directory). */
  async unlink(path: string, o: OpOptions & { directory?: boolean } = {}): Promise<void> {
    const f = await this.open(path, {
      desiredAccess: Access.DELETE | Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
      shareAccess: ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE,
      disposition: Disposition.OPEN,
      options: CreateOption.DELETE_ON_CLOSE | (o.directory ? CreateOption.DIRECTORY_FILE : CreateOption.NON_DIRECTORY_FILE),
    }, o);
    await this.closeFile(f, o);
  }

  /** Deletes a file or a whole directory tree. A missing path is not an error. */
  async deleteTree(path: string, o: OpOptions = {}): Promise<void> {
    let st: FileStat;
    try {
      st = await this.stat(path, o);
    } catch (e) {
      if (e instanceof SmbError && (e.ntStatus === NtStatus.OBJECT_NAME_NOT_FOUND || e.ntStatus === NtStatus.OBJECT_PATH_NOT_FOUND)) return;
      throw e;
    }
    if (!st.isDirectory) return this.unlink(path, o);
    for (const entry of await this.readdir(path, o)) {
      const child = `${smbPath(path)}\\${entry.name}`;
      if (entry.isDirectory) await this.deleteTree(child, o);
      else await this.unlink(child, o);
    }
    if (smbPath(path) !== '') await this.unlink(path, { ...o, directory: true });
  }

  /** Sets or clears delete-on-close on an open handle. */
  async setDeletePending(file: SmbFile, o: OpOptions = {}): Promise<void> {
    const res = await this.request(Command.SET_INFO, setInfoRequest(file.fileId, InfoType.FILE, FileInfoClass.DISPOSITION, Buffer.from([1])), o);
    if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, 'mark for deletion');
  }

  /** Free space of the volume behind the share (FileFsFullSizeInformation). */
  async freeSpace(o: OpOptions = {}): Promise<FreeSpace> {
    return this.withFile('', {
      desiredAccess: Access.FILE_READ_ATTRIBUTES | Access.SYNCHRONIZE,
      shareAccess: ShareAccess.READ | ShareAccess.WRITE | ShareAccess.DELETE,
      disposition: Disposition.OPEN, options: CreateOption.DIRECTORY_FILE,
    }, o, async (f) => {
      const res = await this.request(Command.QUERY_INFO, queryInfoRequest(f.fileId, InfoType.FILESYSTEM, FileInfoClass.FS_FULL_SIZE, 32), o);
      if (res.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(res.header.status, 'query free space');
      const b = parseQueryInfoResponse(res.msg);
      const unit = b.readUInt32LE(24) * b.readUInt32LE(28);
      return {
        totalBytes: Number(b.readBigUInt64LE(0)) * unit,
        availableBytes: Number(b.readBigUInt64LE(8)) * unit,
        freeBytes: Number(b.readBigUInt64LE(16)) * unit,
      };
    });
  }

  /** Streams a local file to `remotePath` (created or overwritten); a failed or aborted copy leaves no file. */
  put(localPath: string, remotePath: string, o: PutOptions = {}): Promise<TransferResult> {
    return putFile(this, localPath, remotePath, o);
  }

  /** Streams `remotePath` to a local file. */
  get(remotePath: string, localPath: string, o: GetOptions = {}): Promise<TransferResult> {
    return getFile(this, remotePath, localPath, o);
  }

  readFile(remotePath: string, o: OpOptions = {}): Promise<Buffer> {
    return readFile(this, remotePath, o);
  }

  /** Writes a small file in one go (e.g. the passphrase file). */
  writeFile(remotePath: string, data: Buffer | string, o: OpOptions = {}): Promise<void> {
    return writeFile(this, remotePath, typeof data === 'string' ? Buffer.from(data) : data, o);
  }

  /** Tree disconnect, logoff, close. Never throws. */
  async close(o: { timeoutMs?: number } = {}): Promise<void> {
    if (this.conn.closed) return;
    const timeoutMs = o.timeoutMs ?? 5000;
    await this.request(Command.TREE_DISCONNECT, emptyRequest(), { timeoutMs }).catch(() => undefined);
    await this.conn.request(Command.LOGOFF, emptyRequest(), {
      timeoutMs, sign: this.signed, encrypt: this.encrypted,
    }).catch(() => undefined);
    this.conn.close();
  }
}
