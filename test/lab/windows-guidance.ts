// The Windows simulator's part for the readiness guidance (issue 14): Microsoft Defender's exclusion list
// in the registry and the memory figures `wmic OS get /value` reports. Separate from the interpreter so
// the figures a test needs are one behaviour field each.
import type { Registry } from './windows-registry.ts';

export const DEFENDER_EXCLUSIONS_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths';
export const AGENT_DATA_DIR = 'C:\\ProgramData\\ASR\\agent';

export interface GuidanceBehaviour {
  /** Paths in Defender's exclusion list (default: the agent folder); null or []: no exclusion key. */
  defenderExclusions?: string[] | null;
  /** What wmic reports, in KiB (default 8 GiB total, 4 GiB free); null: wmic is not there. */
  memoryKiB?: { total: number; free: number } | null;
}

/** Seeds Defender's exclusion key as Defender writes it: one REG_DWORD 0 per excluded path. */
export function seedDefenderExclusions(registry: Registry, behaviour: GuidanceBehaviour): void {
  const paths = behaviour.defenderExclusions === undefined ? [AGENT_DATA_DIR] : behaviour.defenderExclusions;
  if (paths === null) return;
  for (const p of paths) registry.set(DEFENDER_EXCLUSIONS_KEY, p, 0);
}

interface Result { exitCode: number; stdout: string; stderr: string }

/** `wmic OS get /value`: key=value lines among blank ones, as wmic prints them (CR CR LF). */
export function wmic(args: string[], behaviour: GuidanceBehaviour): Result {
  const memory = behaviour.memoryKiB === undefined ? { total: 8 * 1024 * 1024, free: 4 * 1024 * 1024 } : behaviour.memoryKiB;
  const notFound = "'wmic' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n";
  if (memory === null) return { exitCode: 9009, stdout: '', stderr: notFound };
  if (args.map((a) => a.toLowerCase()).join(' ') !== 'os get /value') return { exitCode: 44135, stdout: '', stderr: 'Invalid GET Expression.\r\n' };
  const lines = ['', '', 'Caption=Microsoft Windows Server', `FreePhysicalMemory=${memory.free}`, `TotalVisibleMemorySize=${memory.total}`, '', ''];
  return { exitCode: 0, stdout: lines.join('\r\r\n'), stderr: '' };
}
