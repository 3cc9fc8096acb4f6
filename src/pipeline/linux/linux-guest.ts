import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { shQuote } from '../../transports/shell-quote.ts';
import type { CommandChannel, ExecResult, FileChannel } from '../../transports/transport.ts';
import { Guest, type GuestOptions } from '../guest.ts';
import { commandFailed, newNonce, tail } from '../output.ts';

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

/** 95108 for an account that is not root (`uid`, a number) and is not set to use sudo. */
function notRootError(username: string, uid: string): PushError {
  return new PushError(Codes.LinuxCredentials, { reason: `the account ${username} is not root (uid ${uid}) and is not set to use sudo`, uid });
}

/** The exit code of the uid check that goes in front of the first command (see LinuxGuest.run). */
const NOT_ROOT_EXIT = 97;

/**
 * A Linux guest reached over SSH: runs POSIX sh commands, as root directly or through `sudo -n` when
 * the run-as account is a sudoer (guest-contract.md, Linux); files over SFTP.
 */
export class LinuxGuest extends Guest {
  private readonly sudo: { useSudo: boolean; username?: string };
  /**
   * uid 0 still to be confirmed (`confirmRoot`, for an account that is not a sudoer): the first command's
   * own exec checks it before the command runs, which saves the exec a separate `id -u` would take.
   * `first`: that command's check, which every later command and file operation waits for.
   */
  private readonly root: { pending: boolean; first?: Promise<PushError | null> };

  constructor(commands: CommandChannel, files: FileChannel, opts: GuestOptions & { useSudo: boolean; username?: string; confirmRoot?: boolean }) {
    super(commands, files, opts);
    this.sudo = { useSudo: opts.useSudo, username: opts.username };
    this.root = { pending: opts.confirmRoot === true && !opts.useSudo };
  }

  get useSudo(): boolean {
    return this.sudo.useSudo;
  }

  get username(): string {
    return this.sudo.username ?? 'the run-as account';
  }

  async run(command: string, options: RunOptions = {}): Promise<ExecResult> {
    await this.rootConfirmed();
    return this.root.pending ? this.firstRun(command, options) : this.runAs(command, options);
  }

  protected override async beforeFiles(): Promise<void> {
    await this.rootConfirmed();
    if (this.root.pending) await this.run(':', { label: 'id -u (the account must be root)' });
  }

  /** Waits for the check in front of the first command (and for a newer one, when that exec failed and another took over). */
  private async rootConfirmed(): Promise<void> {
    for (let first = this.root.first; first; first = this.root.first) {
      const error = await first;
      if (error) throw error;
      if (first === this.root.first) return;
    }
  }

  /**
   * The first command, behind a uid check in the same exec: when the account is not root, the command does
   * not run and the exec ends with NOT_ROOT_EXIT and a marked line giving the uid (95108, as the check at
   * connect time gave it); every later call fails the same way.
   */
  private async firstRun(command: string, options: RunOptions): Promise<ExecResult> {
    this.root.pending = false;
    const nonce = newNonce();
    const check = `u=$(id -u) || { echo '${nonce} no-uid'; exit ${NOT_ROOT_EXIT}; }; if [ "$u" != 0 ]; then echo "${nonce} uid $u"; exit ${NOT_ROOT_EXIT}; fi`;
    const run = this.runAs(`${check}\n${command}`, { ...options, label: `[uid 0 first] ${options.label ?? command}` });
    // An exec that failed proved nothing: the next command checks again.
    this.root.first = run.then((res) => this.notRoot(res, nonce), () => { this.root.pending = true; return null; });
    const [res, error] = await Promise.all([run, this.root.first]);
    if (error) throw error;
    return res;
  }

  private notRoot(res: ExecResult, nonce: string): PushError | null {
    if (res.code !== NOT_ROOT_EXIT) return null;
    const m = new RegExp(`^${nonce} (?:uid (\\d+)|no-uid)$`, 'm').exec(res.stdout);
    if (!m) return null;
    return m[1] === undefined ? commandFailed(res, 'read the user id') : notRootError(this.username, m[1]);
  }

  private async runAs(command: string, options: RunOptions): Promise<ExecResult> {
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
