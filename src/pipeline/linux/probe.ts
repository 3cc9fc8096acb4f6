// One exec that reads everything a Linux job checks before it copies (OS release files, architecture,
// installed agent, staging folder, free space, GRUB configuration), and the facts it found. The checks
// themselves stay in the steps, in their documented order and task, each with its own error code: the
// probe only gathers.
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { LINUX_RELEASE_FILES } from '../../repository/os-mapping.ts';
import { shQuote } from '../../transports/shell-quote.ts';
import { linuxCommands, parseDfAvailableKiB, parseMarkedFiles, parseSections, parseVxVersion, probeScript, type ProbeSpec, type Section } from './commands.ts';
import { newNonce, tail } from '../output.ts';
import { sudoPasswordError, sudoWantsPassword, type LinuxGuest } from './linux-guest.ts';

export interface AgentState { installed: boolean; version?: string; registered: boolean; installDir?: string }

export function agentStateOf(vxVersion: string): AgentState {
  if (vxVersion.trim() === '') return { installed: false, registered: false };
  const kv = parseVxVersion(vxVersion);
  const state: AgentState = { installed: true, registered: kv.AGENT_CONFIGURATION_STATUS === 'Succeeded' };
  if (kv.VERSION) state.version = kv.VERSION;
  if (kv.INSTALLATION_DIR) state.installDir = kv.INSTALLATION_DIR;
  return state;
}

/** Available KiB from `df -Pk` output; output that does not parse is a command failure naming the path. */
export function freeKiBOf(output: string, p: string): number {
  const kib = parseDfAvailableKiB(output.trim().split('\n').pop() ?? '');
  if (kib === null) throw new PushError(Codes.CommandFailed, { what: `free space of ${p}`, output: tail(output, 5) });
  return kib;
}

export async function freeKiB(guest: LinuxGuest, p: string): Promise<number> {
  return freeKiBOf(await guest.must(linuxCommands.freeKiB(p), { what: `free space of ${p}`, privileged: true }), p);
}

/** What the probe found; each accessor fails the way the separate command it replaces failed. */
export class GuestFacts {
  constructor(
    private readonly guest: LinuxGuest,
    private readonly sections: Map<string, Section>,
    private readonly freePaths: readonly string[],
    private readonly stderr: string,
  ) {}

  private section(name: string, what: string): Section {
    const s = this.sections.get(name);
    if (!s) throw new PushError(Codes.CommandFailed, { what, reason: 'the probe script did not report it', stderr: tail(this.stderr, 20) });
    return s;
  }

  private ok(name: string, what: string): string {
    const s = this.section(name, what);
    if (s.code !== 0) throw new PushError(Codes.CommandFailed, { what, exitCode: s.code, stderr: tail(this.stderr), stdout: tail(s.output) });
    return s.output;
  }

  /** `uname -m` as printed (empty when it failed: OS detection copes, the prerequisite check does not). */
  get unameOutput(): string {
    return (this.sections.get('arch')?.output ?? '').trim();
  }

  arch(): string {
    return this.ok('arch', 'uname -m').trim();
  }

  releaseFiles(): Record<string, string> {
    return parseMarkedFiles(this.section('release', 'read the OS release files').output);
  }

  agentState(): AgentState {
    return agentStateOf(this.section('agent', 'read the agent state').output);
  }

  /** The staging folder's owner uid and mode, and the account's uid. */
  stage(): { owner: string; mode: string; uid: string } {
    const [first = '', uid = ''] = this.ok('stage', 'create the staging folder').trim().split('\n');
    const [owner = '', mode = ''] = first.trim().split(/\s+/);
    return { owner, mode, uid: uid.trim() };
  }

  /** SHA-256 of an installer already in the staging folder (a retried job), if any. */
  stagedSha256(file: string): string | undefined {
    for (const line of (this.sections.get('staged')?.output ?? '').split('\n')) {
      const [sha, path] = line.trim().split(/\s+/);
      if (path === file) return sha;
    }
    return undefined;
  }

  /**
   * Free KiB for `p`: from the probe's one `df` when it asked and that `df` answered for every path (one
   * line each, in order), else one command of its own (which fails, if it does, naming that path).
   */
  async freeKiB(p: string): Promise<number> {
    const i = this.freePaths.indexOf(p);
    const free = this.sections.get('free');
    const lines = free?.code === 0 ? free.output.trim().split('\n').slice(1) : [];
    if (i < 0 || lines.length !== this.freePaths.length) return freeKiB(this.guest, p);
    return freeKiBOf(lines[i] ?? '', p);
  }

  /** What the wait for an earlier attempt's command printed (empty: there was none). */
  earlier(): string {
    return (this.sections.get('earlier')?.output ?? '').trim();
  }

  /** `cat /proc/meminfo`'s output and exit code. */
  meminfo(): Section {
    return this.sections.get('meminfo') ?? { output: '', code: 127 };
  }

  grubConfigs(): Record<string, string> {
    return parseMarkedFiles(this.section('grub', 'read the GRUB configuration').output);
  }
}

/**
 * Runs the probe: one exec. The part that needs root goes through `sudo -n` when the account uses sudo;
 * a sudo that asks for a password there is 95108, as it would be for any privileged command.
 */
export async function probeGuest(guest: LinuxGuest, spec: Omit<ProbeSpec, 'releaseFiles'>): Promise<GuestFacts> {
  const nonce = newNonce();
  const script = probeScript(nonce, { ...spec, releaseFiles: LINUX_RELEASE_FILES });
  const sudo = guest.useSudo && script.privileged !== '';
  const command = sudo ? `${script.asAccount}\nsudo -n sh -c ${shQuote(script.privileged)}` : `${script.asAccount}\n${script.privileged}`;
  const what = ['OS release files', 'architecture', spec.stage ? 'staging folder' : '', spec.meminfo ? 'memory' : '',
    spec.earlier ? 'a command an earlier attempt started' : '', spec.agentState ? 'agent state' : '', 'free space', spec.grub ? 'GRUB' : '']
    .filter(Boolean).join(', ');
  const res = await guest.run(command, { label: `probe the machine: ${what}${sudo ? ' (root part via sudo -n)' : ''}` });
  let sections: Map<string, Section>;
  try {
    sections = parseSections(res.stdout, nonce);
  } catch (e) {
    throw new PushError(Codes.CommandFailed, { what: 'probe the machine', reason: (e as Error).message });
  }
  const rootPart = spec.agentState ? 'agent' : spec.freeSpace.length > 0 ? 'free' : spec.grub ? 'grub' : null;
  if (sudo && rootPart && !sections.has(rootPart) && sudoWantsPassword(res.stderr)) throw sudoPasswordError(guest.username, res.stderr);
  return new GuestFacts(guest, sections, spec.freeSpace, res.stderr);
}
