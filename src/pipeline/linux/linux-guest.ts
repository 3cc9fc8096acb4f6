import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { shQuote } from '../../transports/shell-quote.ts';
import type { CommandChannel, ExecResult, FileChannel } from '../../transports/transport.ts';
import { Guest, type GuestOptions } from '../guest.ts';
import { commandFailed, tail } from '../output.ts';

export interface RunOptions {
  privileged?: boolean;
  stdin?: string | Buffer;
  /** Shown in the job log instead of the command (for commands that are long or dull). */
  label?: string;
}

const SUDO_PROMPT = /a password is required|a terminal is required|no tty present|askpass/i;

/** Whether sudo's output says it wanted a password (sudo -n never prompts: it fails instead). */
export function sudoWantsPassword(stderr: string): boolean {
  return SUDO_PROMPT.test(stderr);
}

/** 95108 for a sudo that asks for a password (useSudo needs password-less sudo). */
export function sudoPasswordError(username: string, stderr: string): PushError {
  return new PushError(Codes.LinuxCredentials, {
    reason: `sudo asks for a password for ${username} (useSudo needs password-less sudo: a NOPASSWD rule in sudoers)`,
    stderr: tail(stderr),
  }, { message: `sudo asks for a password: the run-as account ${username} needs password-less sudo (NOPASSWD) for useSudo.` });
}

/**
 * A Linux guest reached over SSH: runs POSIX sh commands, as root directly or through `sudo -n` when
 * the run-as account is a sudoer (guest-contract.md, Linux); files over SFTP.
 */
export class LinuxGuest extends Guest {
  private readonly sudo: { useSudo: boolean; username?: string };

  constructor(commands: CommandChannel, files: FileChannel, opts: GuestOptions & { useSudo: boolean; username?: string }) {
    super(commands, files, opts);
    this.sudo = { useSudo: opts.useSudo, username: opts.username };
  }

  get useSudo(): boolean {
    return this.sudo.useSudo;
  }

  get username(): string {
    return this.sudo.username ?? 'the run-as account';
  }

  async run(command: string, options: RunOptions = {}): Promise<ExecResult> {
    const viaSudo = options.privileged === true && this.useSudo;
    const wrapped = viaSudo ? `sudo -n sh -c ${shQuote(command)}` : command;
    this.opts.log(`$ ${options.label ?? command}${viaSudo ? '  (via sudo -n)' : ''}`);
    const res = await this.exec(wrapped, options.stdin);
    if (viaSudo && res.code === 1 && sudoWantsPassword(res.stderr)) {
      throw sudoPasswordError(this.username, res.stderr);
    }
    return res;
  }

  /** Runs a command that must succeed; a non-zero exit becomes `code` (default: command failed). */
  async must(command: string, options: RunOptions & { code?: number; what?: string } = {}): Promise<string> {
    const res = await this.run(command, options);
    if (res.code !== 0) throw commandFailed(res, options.what ?? options.label ?? command, options.code);
    return res.stdout;
  }
}
