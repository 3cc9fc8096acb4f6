import { Codes } from '../errors/catalogue.ts';
import { identifyAny, identifyLsbRelease, identifyOsRelease, identifySuseRelease, identifyText, type DistroGuess } from './distro.ts';
import { resolveGuess } from './distro-tag.ts';
import { parseKeyValues } from './key-values.ts';
import { ambiguousOs, quoteOs, resolved, unsupportedOs, type OsResolution } from './os-resolution.ts';
import { osTagInfo, type Platform } from './os-tags.ts';
import { resolveWindowsName } from './windows.ts';

export type { OsResolution } from './os-resolution.ts';

/**
 * From what a portal sends (os.family + os.name) or what a guest has (its release files) to an OS tag.
 */

const NON_X86_64 = /\b(?:32[\s-]?bit|i[3-6]86|x86(?![_-]64)|ia32|aarch64|arm64|armv\d\w*|ppc64(?:le)?|s390x?|ia64)\b/i;

function mismatch(name: string, is: Platform, family: Platform): OsResolution {
  return {
    ok: false,
    unsupported: false,
    code: Codes.OsMismatch,
    reason: `${quoteOs(name)} is a ${is === 'windows' ? 'Windows' : 'Linux'} operating system but os.family is "${family}".`,
  };
}

function looksLikeWindows(name: string): boolean {
  return /\bwindows\b/i.test(name);
}

/**
 * Resolves a free-text OS name: vCenter guest OS names ("CentOS 7 (64-bit)"), /etc/os-release PRETTY_NAME
 * or content, /etc/redhat-release lines, /etc/SuSE-release and /etc/lsb-release content, Windows captions,
 * or an OS tag itself ("RHEL7-64").
 */
export function resolveOsName(family: 'windows' | 'linux', name: string): OsResolution {
  const text = name.trim();
  if (!text) return ambiguousOs('No OS name was given.', family);
  const tagInfo = osTagInfo(text);
  if (tagInfo) {
    if (tagInfo.platform !== family) return mismatch(text, tagInfo.platform, family);
    return resolved(tagInfo.tag, tagInfo.osNames.join(', '));
  }
  if (family === 'windows') {
    if (!looksLikeWindows(text)) {
      const g = identifyAny(text);
      if (g && g.distro !== 'other') return mismatch(text, 'linux', family);
      return unsupportedOs(quoteOs(text), 'it is not a recognised Windows Server version', 'windows');
    }
    return resolveWindowsName(text);
  }
  if (looksLikeWindows(text)) return mismatch(text, 'windows', family);
  const archWord = NON_X86_64.exec(text.replace(/\bx86[_-]64\b/gi, ' '))?.[0];
  if (archWord) {
    return unsupportedOs(quoteOs(text), `${/32|86/.test(archWord) ? '32-bit operating systems are' : `the ${archWord} architecture is`} not supported (64-bit x86_64 only)`, 'linux');
  }
  const g = identifyAny(text);
  if (!g) return unsupportedOs(quoteOs(text), 'it is not a recognised operating system', 'linux');
  return resolveGuess(g);
}

/** Files detectLinuxOs reads, in the order of Microsoft's deployment script (plus Debian's version file). */
export const LINUX_RELEASE_FILES: readonly string[] = Object.freeze([
  '/etc/oracle-release',
  '/etc/redhat-release',
  '/etc/SuSE-release',
  '/etc/lsb-release',
  '/etc/os-release',
  '/etc/debian_version',
]);

function identifyFile(path: string, content: string): DistroGuess | undefined {
  const kv = parseKeyValues(content);
  switch (path) {
    case '/etc/SuSE-release':
      return identifySuseRelease(content, kv);
    case '/etc/lsb-release':
      return identifyLsbRelease(kv);
    case '/etc/os-release':
      return identifyOsRelease(kv);
    case '/etc/debian_version': {
      const v = content.trim();
      return /^\d+(\.\d+)*$/.test(v) ? { distro: 'debian', text: `Debian ${v}`, version: v } : undefined;
    }
    default: {
      const line = content.split('\n').find((l) => l.trim())?.trim() ?? '';
      return line ? identifyText(line) : undefined;
    }
  }
}

/**
 * Detects the OS tag of a Linux guest from its release files (path -> content; missing files absent or
 * empty) and `uname -m`. Checks in Microsoft's order: oracle-release, redhat-release, SuSE-release,
 * lsb-release, os-release (and debian_version last). A file naming a known distribution decides; a file
 * naming an unknown one lets the next file try; if none is recognised the OS is unsupported.
 */
export function detectLinuxOs(files: Record<string, string>, unameMachine: string): OsResolution {
  const arch = unameMachine.trim();
  if (arch !== 'x86_64' && arch !== 'amd64') {
    return unsupportedOs(`The machine's architecture "${arch || 'unknown'}"`, 'the Mobility Service needs a 64-bit x86_64 kernel', 'linux', Codes.UnsupportedArch);
  }
  let unknown: DistroGuess | undefined;
  let anyFile = false;
  for (const path of LINUX_RELEASE_FILES) {
    const content = files[path];
    if (content === undefined || !content.trim()) continue;
    anyFile = true;
    const g = identifyFile(path, content);
    if (!g || g.distro === 'other' || g.distro === 'generic-linux') {
      // Name the OS by os-release's PRETTY_NAME when there is one: it is the most descriptive.
      unknown = path === '/etc/os-release' ? g ?? unknown : unknown ?? g;
      continue;
    }
    const r = resolveGuess(g);
    return r.ok ? { ...r, description: `${r.description} (from ${path}: ${g.text})` } : r;
  }
  if (!anyFile) {
    return { ok: false, unsupported: false, code: Codes.OsNotDetected, reason: `None of the release files (${LINUX_RELEASE_FILES.join(', ')}) exists on the machine, so its operating system could not be detected. Give the OS tag in the request.` };
  }
  return unsupportedOs(unknown ? quoteOs(unknown.text) : 'The operating system in the release files', 'the distribution is not in the list of supported ones', 'linux');
}
