import type { WindowsTransport } from '../../domain/os.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { RemoteShell } from '../deps.ts';
import { tail } from '../linux/linux-guest.ts';
import type { WindowsFiles } from './files.ts';

export interface WindowsExecResult { code: number | null; stdout: string; stderr: string }

/**
 * A Windows guest as the pipeline sees it: a cmd.exe shell (WinRM or OpenSSH) for commands and a file
 * channel (SMB or SFTP) for the installer, the passphrase file and the installer log.
 */
export class WindowsGuest {
  constructor(
    readonly shell: RemoteShell,
    readonly files: WindowsFiles,
    readonly transport: WindowsTransport,
    private readonly opts: { signal: AbortSignal; timeoutMs: number; log: (line: string) => void; account: string },
  ) {}

  /** The run-as account as it logged on (`DOMAIN\user`, `.\user` for a local one), for messages. */
  get account(): string {
    return this.opts.account;
  }

  async run(command: string, options: { label?: string } = {}): Promise<WindowsExecResult> {
    this.opts.log(`> ${options.label ?? command}`);
    const res = await this.shell.exec(command, { signal: this.opts.signal, timeoutMs: this.opts.timeoutMs });
    return { code: res.code, stdout: res.stdout, stderr: res.stderr };
  }

  /** Runs a command that must exit 0; otherwise `code` (default 99020) with its output. */
  async must(command: string, options: { code?: number; what?: string } = {}): Promise<string> {
    const res = await this.run(command);
    if (res.code !== 0) {
      throw new PushError(options.code ?? Codes.CommandFailed, {
        what: options.what ?? command,
        exitCode: res.code,
        stderr: tail(res.stderr),
        stdout: tail(res.stdout),
      });
    }
    return res.stdout;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.shell.close(), this.files.close()]);
  }
}
