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

/**
 * A Linux guest reached through a channel: runs POSIX sh commands, as root directly or through
 * `sudo -n` when the run-as account is a sudoer (guest-contract.md, Linux).
 */
export class LinuxGuest {
  constructor(
    readonly channel: GuestChannel,
    private readonly opts: { useSudo: boolean; signal: AbortSignal; timeoutMs: number; log: (line: string) => void },
  ) {}

  get useSudo(): boolean {
    return this.opts.useSudo;
  }

  async run(command: string, options: RunOptions = {}): Promise<ExecResult> {
    const wrapped = options.privileged && this.opts.useSudo ? `sudo -n sh -c ${shQuote(command)}` : command;
    this.opts.log(`$ ${options.label ?? command}${options.privileged && this.opts.useSudo ? '  (via sudo -n)' : ''}`);
    const execOptions: Parameters<GuestChannel['exec']>[1] = { signal: this.opts.signal, timeoutMs: this.opts.timeoutMs };
    if (options.stdin !== undefined) execOptions.stdin = options.stdin;
    const res = await this.channel.exec(wrapped, execOptions);
    if (options.privileged && this.opts.useSudo && res.code === 1 && SUDO_PROMPT.test(res.stderr)) {
      throw new PushError(Codes.LinuxCredentials, { reason: 'sudo asks for a password (useSudo needs password-less sudo: NOPASSWD)', stderr: tail(res.stderr) });
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
