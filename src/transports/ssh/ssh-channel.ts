import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { CommandChannel, ExecOptions, ExecResult, FileChannel, FileOptions, PutOptions, SshConnectOptions } from '../transport.ts';
import { abortError, mapSshError } from './errors.ts';
import { SftpSession, sftpPath } from './sftp.ts';

export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

/**
 * A guest channel over OpenSSH: commands through the login shell (POSIX sh on Linux, cmd.exe on Windows
 * OpenSSH), files over SFTP (Windows paths in Win32-OpenSSH's `/C:/...` form). Cancelling (AbortSignal)
 * closes the connection, which ends any transfer or command at once; the caller opens a fresh channel
 * for clean-up.
 */
export class SshChannel implements CommandChannel, FileChannel {
  readonly protocol = 'sftp';
  readonly description = '';
  private sftpSession: SftpSession | null = null;
  private closed = false;
  /** Aborted when the connection is closed (a copy in flight must not wait for replies that cannot come). */
  private readonly lifetime = new AbortController();

  private constructor(private readonly ssh: NodeSSH, private readonly options: SshConnectOptions) {}

  static async connect(options: SshConnectOptions): Promise<SshChannel> {
    const authFailureCode = options.authFailureCode ?? Codes.LinuxCredentials;
    if (options.signal?.aborted) throw abortError();
    const ssh = new NodeSSH();
    let hostKeyError: PushError | null = null;
    const { credentials } = options;
    const config: Parameters<NodeSSH['connect']>[0] = {
      host: options.host,
      port: options.port,
      username: credentials.username,
      readyTimeout: options.connectTimeoutMs,
      tryKeyboard: credentials.password !== undefined,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        if (!options.verifyHostKey) { verify(true); return; }
        options.verifyHostKey(sshFingerprint(key), keyTypeOf(key)).then(
          () => verify(true),
          (e: unknown) => {
            hostKeyError = e instanceof PushError ? e : new PushError(Codes.HostKeyMismatch, { cause: String(e) });
            verify(false);
          },
        );
      },
    } as Parameters<NodeSSH['connect']>[0];
    if (credentials.password !== undefined) {
      config.password = credentials.password;
      config.onKeyboardInteractive = (_n, _i, _l, prompts, finish) => finish(prompts.map(() => credentials.password ?? ''));
    }
    if (credentials.privateKey !== undefined) {
      config.privateKey = credentials.privateKey;
      if (credentials.passphrase !== undefined) config.passphrase = credentials.passphrase;
    }
    const onAbort = () => ssh.dispose();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await ssh.connect(config);
    } catch (e) {
      ssh.dispose();
      if (options.signal?.aborted) throw abortError();
      if (hostKeyError) throw hostKeyError;
      if (/private key|passphrase|Cannot parse privateKey|Unsupported key format/i.test((e as Error)?.message ?? '')) {
        throw new PushError(authFailureCode, { phase: 'connect', reason: 'the run-as account\'s private key cannot be used (wrong passphrase or unsupported format)' });
      }
      throw mapSshError(e, 'connect', authFailureCode);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    ssh.connection?.setNoDelay(true);
    const channel = new SshChannel(ssh, { ...options, authFailureCode });
    try {
      // Files go over SFTP: a guest without the subsystem cannot be pushed to, so find out now.
      await channel.session();
    } catch (e) {
      await channel.close();
      throw e;
    }
    return channel;
  }

  private get authFailureCode(): number {
    return this.options.authFailureCode ?? Codes.LinuxCredentials;
  }

  /** Opens the SFTP subsystem once; its absence is an account/guest configuration error (95108). */
  private async session(): Promise<SftpSession> {
    if (this.sftpSession) return this.sftpSession;
    try {
      this.sftpSession = new SftpSession(await this.ssh.requestSFTP(), this.authFailureCode);
    } catch (e) {
      throw new PushError(this.authFailureCode, { reason: 'the SFTP subsystem is not available on the guest', cause: (e as Error).message });
    }
    return this.sftpSession;
  }

  private guard<T>(signal: AbortSignal | undefined, timeoutMs: number | undefined, phase: 'exec' | 'copy', work: () => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => { if (!settled) { settled = true; cleanup(); fn(); } };
      const onAbort = () => { this.dispose(); finish(() => reject(abortError())); };
      const timer = timeoutMs ? setTimeout(() => {
        this.dispose();
        finish(() => reject(new PushError(Codes.Timeout, { phase, timeoutMs })));
      }, timeoutMs) : undefined;
      const cleanup = () => { if (timer) clearTimeout(timer); signal?.removeEventListener('abort', onAbort); };
      signal?.addEventListener('abort', onAbort, { once: true });
      work().then(
        (v) => finish(() => resolve(v)),
        (e: unknown) => finish(() => reject(mapSshError(e, phase, this.authFailureCode))),
      );
    });
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.guard(options.signal, options.timeoutMs, 'exec', async () => {
      if (this.closed) throw Object.assign(new Error('Not connected'), { code: 'ECONNRESET' });
      let channel: ClientChannel | undefined;
      const execOptions: Parameters<NodeSSH['execCommand']>[1] = { noTrim: true, onChannel: (c) => { channel = c; } };
      if (options.stdin !== undefined) {
        const { Readable } = await import('node:stream');
        execOptions.stdin = Readable.from([Buffer.isBuffer(options.stdin) ? options.stdin : Buffer.from(options.stdin)]);
      }
      const res = await this.ssh.execCommand(command, execOptions);
      void channel;
      const out: ExecResult = { code: res.code, stdout: res.stdout, stderr: res.stderr };
      if (res.signal) out.signal = res.signal;
      return out;
    });
  }

  put(localPath: string, remotePath: string, options: PutOptions = {}): Promise<void> {
    return this.guard(options.signal, options.timeoutMs, 'copy', async () => {
      const sftp = await this.session();
      const total = (await stat(localPath)).size;
      await sftp.put(localPath, sftpPath(remotePath), (transferred) => options.onProgress?.(transferred, total), this.lifetime.signal);
    });
  }

  writeFile(path: string, content: string | Buffer, options: FileOptions = {}): Promise<void> {
    return this.files(options, (sftp) => sftp.writeFile(sftpPath(path), content));
  }

  readFile(path: string, options: FileOptions = {}): Promise<Buffer> {
    return this.files(options, (sftp) => sftp.readFile(sftpPath(path)));
  }

  exists(path: string, options: FileOptions = {}): Promise<boolean> {
    return this.files(options, (sftp) => sftp.exists(sftpPath(path)));
  }

  mkdirp(path: string, options: FileOptions = {}): Promise<void> {
    return this.files(options, (sftp) => sftp.mkdirp(sftpPath(path)));
  }

  remove(path: string, options: FileOptions = {}): Promise<void> {
    return this.files(options, (sftp) => sftp.remove(sftpPath(path)));
  }

  removeTree(path: string, options: FileOptions = {}): Promise<void> {
    return this.files(options, (sftp) => sftp.removeTree(sftpPath(path)));
  }

  /** Every path the account may see is reachable over SFTP. */
  reaches(): boolean {
    return true;
  }

  private files<T>(options: FileOptions, work: (sftp: SftpSession) => Promise<T>): Promise<T> {
    return this.guard(options.signal, options.timeoutMs, 'copy', async () => work(await this.session()));
  }

  private dispose(): void {
    this.closed = true;
    this.lifetime.abort();
    this.ssh.dispose();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort();
    this.sftpSession?.end();
    this.ssh.dispose();
  }
}
