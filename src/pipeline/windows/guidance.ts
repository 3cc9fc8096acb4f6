import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { memoryFinding, memoryUnknown, type Finding } from '../guidance.ts';
import type { PartResult } from './batch.ts';
import { parseRegQuery } from './commands.ts';

/** The folder the documentation says to exclude from antivirus scanning. */
export const AGENT_DATA_DIR = 'C:\\ProgramData\\ASR\\agent';
/** Microsoft Defender's path exclusions: one value per excluded path (the value name is the path). */
export const DEFENDER_EXCLUSIONS_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths';

function covers(excluded: string, folder: string): boolean {
  const e = excluded.replace(/\\+$/, '').toLowerCase();
  const f = folder.toLowerCase();
  return f === e || f.startsWith(`${e}\\`);
}

/** Whether Defender's exclusion list (`reg query` of its key) names the agent folder (or a folder above it). */
export function defenderExclusionFinding(res: PartResult): Finding {
  const details = { folder: AGENT_DATA_DIR, registryKey: DEFENDER_EXCLUSIONS_KEY };
  if (!res.ok) {
    return {
      note: `antivirus: Microsoft Defender's exclusion list could not be read, so it is not known whether ${AGENT_DATA_DIR} is excluded`,
      warning: new PushError(Codes.AntivirusExclusionMissing, { ...details, excluded: null, reason: 'the exclusion key is missing or unreadable (no path exclusions, Defender not installed, or another antivirus)' }),
    };
  }
  const covering = [...parseRegQuery(res.output).keys()].find((p) => covers(p, AGENT_DATA_DIR));
  if (covering !== undefined) return { note: `antivirus: ${AGENT_DATA_DIR} is excluded from Microsoft Defender scanning` };
  return {
    note: `antivirus: ${AGENT_DATA_DIR} is not in Microsoft Defender's exclusion list`,
    warning: new PushError(Codes.AntivirusExclusionMissing, { ...details, excluded: false }),
  };
}

/** Total and free physical memory as `wmic OS get /value` reports them (KiB). */
export function windowsMemoryFinding(res: PartResult): Finding {
  const total = /TotalVisibleMemorySize=(\d+)/i.exec(res.output)?.[1];
  const free = /FreePhysicalMemory=(\d+)/i.exec(res.output)?.[1];
  if (!res.ok || total === undefined || free === undefined) return memoryUnknown(`wmic OS get exited ${res.ok ? 0 : 'non-zero'}`);
  return memoryFinding(Number(total) * 1024, Number(free) * 1024);
}
