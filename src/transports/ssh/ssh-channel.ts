import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { ExecOptions, ExecResult, GuestChannel, PutOptions } from '../transport.ts';

export interface SshCredentials {
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface SshConnectOptions {
  host: string;
  port: number;
  credentials: SshCredentials;
  connectTimeoutMs: number;
  /**
   * Called with the server's host key fingerprint (`SHA256:<base64>`) during the handshake; throws (a
   * PushError) to refuse the key. Host-key policy lives with the caller, not here.
   */
  verifyHostKey?: (fingerprint: string, keyType: string) => Promise<void>;
  /** Error code for authentication failures: 95108 (Linux) or 95107 (Windows over OpenSSH). */
  authFailureCode?: number;
  signal?: AbortSignal;
}

export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function abortError(): PushError {
  return new PushError(Codes.Cancelled);
}

/** Maps an error from ssh2 to the catalogue. Secrets are never in ssh2's messages, but we redact anyway upstream. */
export function mapSshError(e: unknown, phase: 'connect' | 'exec' | 'copy', authFailureCode: number): PushError {
  if (e instanceof PushError) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const details: Record<string, unknown> = { phase, cause: err?.message ?? String(e) };
  if (err?.code) details.errno = err.code;
  const sftpStatus = (e as { code?: unknown })?.code;
  if (typeof sftpStatus === 'number') {
    // An SFTP status: the server answered, so this is not a network fault.
    if (sftpStatus === 3) return new PushError(Codes.AccessDenied, { ...details, sftpStatus });
    if (/no space|quota/i.test(err.message ?? '')) return new PushError(Codes.CopySpace, { ...details, sftpStatus });
    return new PushError(Codes.CommandFailed, { ...details, sftpStatus });
  }
  if (err?.level === 'client-authentication') {
    return new PushError(authFailureCode, { ...details, reason: 'authentication failed (all offered methods were refused)' });
  }
  if (err?.level === 'client-timeout') return new PushError(Codes.Unreachable, { ...details, reason: 'SSH handshake timed out' });
  if (err?.code && UNREACHABLE.has(err.code)) return new PushError(Codes.Unreachable, details);
  if ((err?.code && RESET.has(err.code)) || /Not connected|No response from server|connection lost|Channel open failure|Unexpected (packet|EOF)/i.test(err?.message ?? '')) {
    return new PushError(Codes.ConnectionLost, details, { retryable: true });
  }
  if (phase === 'connect') return new PushError(Codes.Unreachable, details);
  return new PushError(Codes.ConnectionLost, details, { retryable: true });
}

/**
 * A guest channel over OpenSSH: commands through the login shell (POSIX sh on Linux, cmd.exe on Windows
 * OpenSSH), files over SFTP. Cancelling (AbortSignal) closes the connection, which ends any transfer or
 * command at once; the caller opens a fresh channel for clean-up.
 */
export class SshChannel implements GuestChannel {
  readonly kind = 'ssh';
  private sftpSession: SFTPWrapper | null = null;
  private closed = false;

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
      await channel.sftp();
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
  async sftp(): Promise<SFTPWrapper> {
    if (this.sftpSession) return this.sftpSession;
    try {
      this.sftpSession = await this.ssh.requestSFTP();
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
      const sftp = await this.sftp();
      const total = (await stat(localPath)).size;
      await new Promise<void>((resolve, reject) => {
        sftp.fastPut(localPath, remotePath, {
          concurrency: 16,
          chunkSize: 261_120,
          mode: 0o600,
          step: (transferred) => options.onProgress?.(transferred, total),
        }, (err) => (err ? reject(err) : resolve()));
      });
    });
  }

  writeFile(remotePath: string, content: string | Buffer, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.guard(options.signal, undefined, 'copy', async () => {
      const sftp = await this.sftp();
      await new Promise<void>((resolve, reject) => {
        sftp.writeFile(remotePath, content, { mode: 0o600 }, (err) => (err ? reject(err) : resolve()));
      });
    });
  }

  private dispose(): void {
    this.closed = true;
    this.ssh.dispose();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sftpSession?.end();
    this.ssh.dispose();
  }
}
