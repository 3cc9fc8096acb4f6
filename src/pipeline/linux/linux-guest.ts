import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { redactor } from '../../logging/redactor.ts';
import { shQuote } from '../../transports/shell-quote.ts';
import type { ExecResult, GuestChannel } from '../../transports/transport.ts';

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
 * A Linux guest reached through a channel: runs POSIX sh commands, as root directly or through
 * `sudo -n` when the run-as account is a sudoer (guest-contract.md, Linux).
 */
export class LinuxGuest {
  constructor(
    readonly channel: GuestChannel,
    private readonly opts: { useSudo: boolean; username?: string; signal: AbortSignal; timeoutMs: number; log: (line: string) => void },
  ) {}

  get useSudo(): boolean {
    return this.opts.useSudo;
  }

  get username(): string {
    return this.opts.username ?? 'the run-as account';
  }

  async run(command: string, options: RunOptions = {}): Promise<ExecResult> {
    const wrapped = options.privileged && this.opts.useSudo ? `sudo -n sh -c ${shQuote(command)}` : command;
    this.opts.log(`$ ${options.label ?? command}${options.privileged && this.opts.useSudo ? '  (via sudo -n)' : ''}`);
    const execOptions: Parameters<GuestChannel['exec']>[1] = { signal: this.opts.signal, timeoutMs: this.opts.timeoutMs };
    if (options.stdin !== undefined) execOptions.stdin = options.stdin;
    const res = await this.channel.exec(wrapped, execOptions);
    if (options.privileged && this.opts.useSudo && res.code === 1 && sudoWantsPassword(res.stderr)) {
      throw sudoPasswordError(this.username, res.stderr);
    }
    return res;
  }

  /** Runs a command that must succeed; a non-zero exit becomes `code` (default: command failed). */
  async must(command: string, options: RunOptions & { code?: number; what?: string } = {}): Promise<string> {
    const res = await this.run(command, options);
    if (res.code !== 0) {
      throw new PushError(options.code ?? Codes.CommandFailed, {
        what: options.what ?? options.label ?? command,
        exitCode: res.code,
        stderr: tail(res.stderr),
        stdout: tail(res.stdout),
      });
    }
    return res.stdout;
  }
}

/** The last lines of some output, redacted, for an error's details. */
export function tail(text: string, lines = 40): string {
  const all = redactor.redact(text).replace(/\s+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}
