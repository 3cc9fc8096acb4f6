import { osTagInfo, OS_TAGS, type Platform } from './os-tags.ts';
import { parseVersion } from './versions.ts';

/**
 * Installer file names: Microsoft-ASR_UA_<version>_<OSTAG>_GA_<ddMonyyyy>_release.<exe|tar.gz>,
 * matched case-insensitively (real files use both "release" and "Release").
 */

export interface ParsedInstallerName {
  file: string;
  version: string;
  /** Canonical OS tag ("RHEL7-64" even if the file says "rhel7-64"). */
  osTag: string;
  platform: Platform;
  /** ISO yyyy-mm-dd. */
  releaseDate: string;
  extension: 'exe' | 'tar.gz';
}

export const INSTALLER_NAME_FORMAT = 'Microsoft-ASR_UA_<version>_<OSTAG>_GA_<ddMonyyyy>_release.<exe|tar.gz>';

const NAME = /^Microsoft-ASR_UA_([^_]*)_(.*)_GA_([^_]*)_release\.([A-Za-z0-9.]+)$/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** "22Oct2019" -> "2019-10-22"; undefined if not a real date. */
export function parseReleaseDate(text: string): string | undefined {
  const m = /^(\d{1,2})([A-Za-z]{3})(\d{4})$/.exec(text);
  if (!m) return undefined;
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] ?? '').toLowerCase()) + 1;
  const year = Number(m[3]);
  if (month === 0 || day < 1 || year < 2000) return undefined;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function parseInstallerName(file: string): { ok: true; value: ParsedInstallerName } | { ok: false; reason: string } {
  const m = NAME.exec(file);
  if (!m) return { ok: false, reason: `the name does not follow ${INSTALLER_NAME_FORMAT}` };
  const [, version = '', tagText = '', dateText = '', extText = ''] = m;
  try {
    parseVersion(version);
  } catch {
    return { ok: false, reason: `"${version}" is not a valid agent version (expected numbers separated by dots, such as 9.30.0.0)` };
  }
  const info = osTagInfo(tagText);
  if (!info) {
    return { ok: false, reason: `"${tagText}" is not a known OS tag (known: ${OS_TAGS.map((t) => t.tag).join(', ')})` };
  }
  const releaseDate = parseReleaseDate(dateText);
  if (!releaseDate) return { ok: false, reason: `"${dateText}" is not a valid release date (expected ddMonyyyy, such as 22Oct2019)` };
  const ext = extText.toLowerCase();
  if (ext !== 'exe' && ext !== 'tar.gz') return { ok: false, reason: `".${extText}" is not an installer extension (.exe for Windows, .tar.gz for Linux)` };
  if (ext !== info.extension) {
    return { ok: false, reason: `the ${info.tag} installer must be a .${info.extension} file, not .${ext}` };
  }
  return { ok: true, value: { file, version, osTag: info.tag, platform: info.platform, releaseDate, extension: ext } };
}

/** The file name to look for, e.g. "Microsoft-ASR_UA_<version>_RHEL5-64_GA_<ddMonyyyy>_release.tar.gz". Throws on an unknown tag. */
export function installerFilePattern(tag: string): string {
  const info = osTagInfo(tag);
  if (!info) throw new Error(`unknown OS tag "${tag}"`);
  return `Microsoft-ASR_UA_<version>_${info.tag}_GA_<ddMonyyyy>_release.${info.extension}`;
}
