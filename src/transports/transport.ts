/**
 * The one interface every guest channel implements (after Ansible's connection plugins): the pipeline
 * decides what to run; a channel only knows how bytes and commands reach one guest.
 */
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

export interface PutOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onProgress?: (transferred: number, total: number) => void;
}

export interface GuestChannel {
  /** 'ssh' (POSIX sh or cmd.exe over OpenSSH) or 'smb+winrm'. */
  readonly kind: string;
  /** Runs one command through the guest's shell. Never throws on a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Copies a local file to the guest. */
  put(localPath: string, remotePath: string, options?: PutOptions): Promise<void>;
  /** Writes a small file (mode 0600 where the guest has modes). */
  writeFile(remotePath: string, content: string | Buffer, options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}
