import type { WindowsTransport } from '../../domain/os.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { CommandChannel, FileChannel } from '../../transports/transport.ts';
import { splitWindowsPath } from '../../transports/windows-path.ts';
import { Guest, type GuestOptions } from '../guest.ts';
import { tail, type ExitCode } from '../output.ts';
import { parseDirFreeBytes, windowsCommands } from './commands.ts';

export interface WindowsExecResult { code: number | null; stdout: string; stderr: string }

/**
 * A Windows guest as the pipeline sees it: a cmd.exe shell (WinRM or OpenSSH) for commands and a file
 * channel (SMB or SFTP) for the installer, the passphrase file and the installer log, by Windows path.
 */
export class WindowsGuest extends Guest {
  /** The run-as account as it logged on (`DOMAIN\user`, `.\user` for a local one), for messages. */
  readonly account: string;

  constructor(commands: CommandChannel, files: FileChannel, readonly transport: WindowsTransport, opts: GuestOptions & { account: string }) {
    super(commands, files, opts);
    this.account = opts.account;
  }

  async run(command: string, options: { label?: string } = {}): Promise<WindowsExecResult> {
    this.opts.log(`> ${options.label ?? command}`);
    const res = await this.exec(command);
    return { code: res.code, stdout: res.stdout, stderr: res.stderr };
  }

  /** Bytes available on the volume holding `path`: from the file channel, else from `dir` (SFTP cannot tell). */
  async freeBytes(path: string): Promise<number> {
    if (this.files.freeBytes) return this.files.freeBytes(path, this.fileOptions);
    return dirFreeBytes(path, await this.run(windowsCommands.freeBytes(`${splitWindowsPath(path).drive}:`)));
  }
}

/** Free bytes from `dir /-c <drive>:` (run alone, or a part of a batch: code 'non-zero'); else 99020 naming the path. */
export function dirFreeBytes(path: string, res: { code: ExitCode; stdout: string; stderr: string }): number {
  const free = res.code === 0 ? parseDirFreeBytes(res.stdout) : null;
  if (free === null) throw new PushError(Codes.CommandFailed, { what: `free space of ${path}`, exitCode: res.code, stdout: tail(res.stdout, 5), stderr: tail(res.stderr, 5) });
  return free;
}
