/**
 * The interfaces every guest channel implements (after Ansible's connection plugins): the pipeline
 * decides what to run and which files to place; a channel only knows how commands and bytes reach one
 * guest. A guest is one command channel plus one file channel: the same SSH connection on Linux and on
 * Windows over OpenSSH, WinRM plus SMB otherwise. Every failure a channel reports is a PushError.
 */
import type { WinrmTls } from '../domain/os.ts';

export interface ExecResult {
  /** Exit code; null when the command was killed by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin (used for secrets, which never go on a command line). */
  stdin?: string | Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Runs commands through the guest's shell (POSIX sh, or cmd.exe over WinRM or OpenSSH). */
export interface CommandChannel {
  /** Runs one command line. Never throws on a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export interface FileOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface PutOptions extends FileOptions {
  onProgress?: (transferred: number, total: number) => void;
}

/**
 * Files on one guest, named by the guest's own absolute paths (`/tmp/x` on Linux, `C:\Windows\Temp\x`
 * on Windows): each implementation converts a path to its wire form (SFTP `/C:/...`, the path inside
 * the C$ share).
 */
export interface FileChannel {
  /** The protocol's name ('sftp', 'smb'), for messages. */
  readonly protocol: string;
  /** What the session negotiated, for the job log (e.g. SMB's dialect and protection); may be empty. */
  readonly description: string;
  /** Whether `path` can be reached at all (SMB: the C: drive only, through the C$ share). */
  reaches(path: string): boolean;
  /** Copies a local file to the guest. */
  put(localPath: string, remotePath: string, options?: PutOptions): Promise<void>;
  /** Writes a small file (mode 0600 where the guest has modes). */
  writeFile(path: string, content: string | Buffer, options?: FileOptions): Promise<void>;
  readFile(path: string, options?: FileOptions): Promise<Buffer>;
  exists(path: string, options?: FileOptions): Promise<boolean>;
  /** Creates a folder and any missing parents; an existing one is fine. */
  mkdirp(path: string, options?: FileOptions): Promise<void>;
  /** Deletes a file; a missing one is not an error. */
  remove(path: string, options?: FileOptions): Promise<void>;
  /** Deletes a folder and everything in it (or a file); a missing one is not an error. */
  removeTree(path: string, options?: FileOptions): Promise<void>;
  /** Bytes available to the account on the volume holding `path`; absent when the protocol cannot tell. */
  freeBytes?(path: string, options?: FileOptions): Promise<number>;
  close(): Promise<void>;
}

// How each transport is reached: declared here, beside the channel interfaces, so the pipeline can ask
// for a connection without importing any protocol code.

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

/** Where and as whom to reach a guest's admin shares. */
export interface SmbFilesOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** NetBIOS/DNS domain, or '.' for an account local to the guest. */
  domain: string;
  /** Connect timeout, and the default timeout of each request. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface WinrmConnectOptions {
  host: string;
  /** Default 5985 (http) or 5986 (https). */
  port?: number;
  /** http: NTLM with message encryption (Windows' default listener); https: TLS, NTLM, no message encryption. */
  transport: 'http' | 'https';
  /** `DOMAIN\user`, `.\user` (local account of the guest), `user@dns.domain`, or `user` with `domain`. */
  username: string;
  /** Never logged, never put in an error. */
  password: string;
  domain?: string;
  /** Time allowed to connect, authenticate and open the shell (and to reconnect later). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * https only, required there: called on every new TLS connection, before anything is sent, with the
   * certificate's SHA-256 fingerprint (upper-case hex pairs joined by colons, as
   * `openssl x509 -fingerprint -sha256` prints it) and its PEM. Throw to refuse the certificate; the
   * error reaches the caller of connect/exec unchanged.
   */
  verifyCertificate?: (sha256Fingerprint: string, pem: string) => Promise<void>;
  /** How long the guest may hold a Receive without output (WS-Man OperationTimeout). Default 20 s. */
  operationTimeoutMs?: number;
  /** https only: "legacy" also accepts TLS 1.0/1.1 and the older ciphers (default "modern": TLS 1.2+). */
  winrmTls?: WinrmTls;
}
