// What the Windows steps read from the guest, gathered in one batched command line per point of a job
// (batch.ts): the agent state, the installer's SHA-256, the prerequisite reads, free space (when the file
// channel cannot tell it) and the readiness guidance. The checks stay in the steps, in their documented
// order and task, each with its own error code: the reads only gather, and each accessor fails the way
// the separate command it replaces failed.
import { splitWindowsPath } from '../../transports/windows-path.ts';
import { agentStateOf, type WindowsAgentState } from './agent-state.ts';
import { runBatch, type BatchPart, type BatchResult, type PartResult } from './batch.ts';
import { AGENT_KEY, ENVIRONMENT_KEY, OS_VERSION_KEY, parseCertutilSha256, UNINSTALL_KEYS, windowsCommands } from './commands.ts';
import { DEFENDER_EXCLUSIONS_KEY } from './guidance.ts';
import { dirFreeBytes, type WindowsGuest } from './windows-guest.ts';

export interface WindowsReads {
  /** Both Uninstall views and the InMage key (asr-facts.md §6). */
  agentState?: boolean;
  /** A file to hash with certutil (the copied installer). */
  sha256?: string;
  /** The token's groups, PROCESSOR_ARCHITECTURE and the Windows version (the prerequisite check). */
  prerequisites?: boolean;
  /** Paths whose volumes' free space the next checks need: read with `dir` only when the file channel cannot tell (SFTP). */
  freeSpace?: readonly string[];
  /** Defender's exclusion list and the memory figures (the readiness guidance). */
  guidance?: boolean;
}

const uninstallPart = (i: number) => `uninstall-${i}`;
const freePart = (path: string) => `free-${splitWindowsPath(path).drive.toLowerCase()}`;

function partsFor(guest: WindowsGuest, reads: WindowsReads): BatchPart[] {
  const parts: BatchPart[] = [];
  const add = (name: string, command: string) => { if (!parts.some((p) => p.name === name)) parts.push({ name, command }); };
  if (reads.agentState) {
    UNINSTALL_KEYS.forEach((key, i) => add(uninstallPart(i), windowsCommands.regQuery(key)));
    add('inmage', windowsCommands.regQuery(AGENT_KEY));
  }
  if (reads.sha256 !== undefined) add('sha256', windowsCommands.sha256(reads.sha256));
  if (reads.prerequisites) {
    add('groups', windowsCommands.whoamiGroups());
    add('arch', windowsCommands.regQuery(ENVIRONMENT_KEY, 'PROCESSOR_ARCHITECTURE'));
    add('os', windowsCommands.regQuery(OS_VERSION_KEY));
  }
  if (!guest.files.freeBytes) for (const p of reads.freeSpace ?? []) add(freePart(p), windowsCommands.freeBytes(`${splitWindowsPath(p).drive}:`));
  if (reads.guidance) {
    add('defender', windowsCommands.regQuery(DEFENDER_EXCLUSIONS_KEY));
    add('memory', windowsCommands.memory());
  }
  return parts;
}

/** What one batched read found. */
export class WindowsFacts {
  constructor(private readonly guest: WindowsGuest, private readonly batch: BatchResult) {}

  /** Output of the whole line on stderr (cmd.exe gives the parts one stream), for errors. */
  get stderr(): string {
    return this.batch.stderr;
  }

  agentState(): WindowsAgentState {
    const uninstall = UNINSTALL_KEYS.map((key, i) => ({ key, read: this.batch.part(uninstallPart(i), `read ${key}`) }));
    return agentStateOf(uninstall, this.batch.part('inmage', `read ${AGENT_KEY}`));
  }

  /** The file's SHA-256, or null when certutil failed or printed none. */
  sha256(): string | null {
    const p = this.batch.part('sha256', 'SHA-256 of the copied installer');
    return p.ok ? parseCertutilSha256(p.output) : null;
  }

  /** `whoami /groups /fo csv /nh`, which must succeed. */
  groups(): string {
    return this.batch.ok('groups', 'read the account\'s groups');
  }

  /** `reg query` of PROCESSOR_ARCHITECTURE, as it came (the check decides). */
  architecture(): PartResult {
    return this.batch.part('arch', 'read PROCESSOR_ARCHITECTURE');
  }

  /** `reg query` of the Windows version key, which must succeed. */
  windowsVersion(): string {
    return this.batch.ok('os', 'read the Windows version');
  }

  defenderExclusions(): PartResult {
    return this.batch.part('defender', `read ${DEFENDER_EXCLUSIONS_KEY}`);
  }

  memory(): PartResult {
    return this.batch.part('memory', 'wmic OS get /value');
  }

  /** Free bytes for `path`: from the file channel (asked now), else from this read's `dir`, else a `dir` of its own. */
  async freeBytes(path: string): Promise<number> {
    const name = freePart(path);
    if (this.guest.files.freeBytes || !this.batch.has(name)) return this.guest.freeBytes(path);
    const p = this.batch.part(name, `free space of ${path}`);
    return dirFreeBytes(path, { code: p.ok ? 0 : 'non-zero', stdout: p.output, stderr: this.batch.stderr });
  }
}

/** Runs the reads asked for as one command line. */
export async function readWindows(guest: WindowsGuest, reads: WindowsReads): Promise<WindowsFacts> {
  const parts = partsFor(guest, reads);
  const what = [reads.agentState ? 'agent state' : '', reads.sha256 !== undefined ? 'SHA-256' : '', reads.prerequisites ? 'prerequisites' : '',
    parts.some((p) => p.name.startsWith('free-')) ? 'free space' : '', reads.guidance ? 'guidance' : ''].filter(Boolean).join(', ');
  return new WindowsFacts(guest, await runBatch(guest, parts, `read ${what}`));
}

/** The agent state alone (one command: both Uninstall views and the InMage key). */
export async function readWindowsAgentState(guest: WindowsGuest): Promise<WindowsAgentState> {
  return (await readWindows(guest, { agentState: true })).agentState();
}
