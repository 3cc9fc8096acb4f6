import type { CommandChannel, ExecResult, FileChannel, FileOptions } from '../transports/transport.ts';

export interface GuestOptions {
  /** The connection's signal: the job's, or a clean-up deadline. */
  signal: AbortSignal;
  /** Allowed for each command and each file operation but a copy. */
  timeoutMs: number;
  log: (line: string) => void;
}

/**
 * A guest as the pipeline composes it: a command channel and a file channel (one SSH connection for
 * both, or WinRM and SMB), every call bound to the connection's signal and the step timeout. The OS
 * classes add how commands are run and logged there.
 */
export class Guest {
  constructor(readonly commands: CommandChannel, readonly files: FileChannel, protected readonly opts: GuestOptions) {}

  protected exec(command: string, stdin?: string | Buffer): Promise<ExecResult> {
    return this.commands.exec(command, { signal: this.opts.signal, timeoutMs: this.opts.timeoutMs, ...(stdin !== undefined ? { stdin } : {}) });
  }

  protected get fileOptions(): FileOptions {
    return { signal: this.opts.signal, timeoutMs: this.opts.timeoutMs };
  }

  /** Awaited before every file operation: an OS class may hold them until a check passed (LinuxGuest). */
  protected beforeFiles(): Promise<void> {
    return Promise.resolve();
  }

  /** Copies a local file to the guest; no timeout for the whole copy (large installers on slow links). */
  async put(localPath: string, remotePath: string, onProgress?: (done: number, total: number) => void): Promise<void> {
    await this.beforeFiles();
    return this.files.put(localPath, remotePath, { signal: this.opts.signal, ...(onProgress ? { onProgress } : {}) });
  }

  async writeFile(path: string, content: string | Buffer): Promise<void> {
    await this.beforeFiles();
    return this.files.writeFile(path, content, this.fileOptions);
  }

  async readFile(path: string): Promise<Buffer> {
    await this.beforeFiles();
    return this.files.readFile(path, this.fileOptions);
  }

  async exists(path: string): Promise<boolean> {
    await this.beforeFiles();
    return this.files.exists(path, this.fileOptions);
  }

  async mkdirp(path: string): Promise<void> {
    await this.beforeFiles();
    return this.files.mkdirp(path, this.fileOptions);
  }

  /** Deletes a file; a missing one is not an error. */
  async remove(path: string): Promise<void> {
    await this.beforeFiles();
    return this.files.remove(path, this.fileOptions);
  }

  /** Deletes a folder tree as the run-as account; a missing one is not an error. */
  async removeTree(path: string): Promise<void> {
    await this.beforeFiles();
    return this.files.removeTree(path, this.fileOptions);
  }

  /** Closes both channels (once when they are one connection); never throws. */
  async close(): Promise<void> {
    const channels = new Set<CommandChannel | FileChannel>([this.commands, this.files]);
    await Promise.allSettled([...channels].map((c) => c.close()));
  }
}
