import { parseKeyValues } from './key-values.ts';

/**
 * Identifies a Linux distribution and version from text: a vCenter guest OS name, an /etc/os-release,
 * /etc/lsb-release or /etc/SuSE-release content, a PRETTY_NAME, or an /etc/*-release line.
 */

export type DistroId =
  | 'rhel' | 'centos' | 'centos-stream' | 'oracle' | 'sles' | 'sled' | 'opensuse' | 'ubuntu' | 'debian'
  /** A generic name that does not say which distribution ("Other 4.x Linux (64-bit)"). */
  | 'generic-linux'
  /** A named distribution not in the table (Fedora, Rocky, Amazon Linux, ...). */
  | 'other';

export interface DistroGuess {
  distro: DistroId;
  /** What was recognised, for messages (e.g. "CentOS Linux release 7.9.2009 (Core)"). */
  text: string;
  /** "7.9", "18.04", "11"; undefined when the text gives none. */
  version?: string;
  /** vCenter ranges such as "CentOS 4/5/6": every major version it may be. */
  alternatives?: string[];
  /** SUSE service pack (patch level). */
  servicePack?: number;
  /** True when the service pack is authoritative (0 means "no service pack"), false when merely absent. */
  servicePackKnown?: boolean;
}

interface Pattern { distro: DistroId; re: RegExp }

/** Order matters: Oracle before Red Hat ("Enterprise Linux"), CentOS Stream before CentOS, SLED before SLES. */
const PATTERNS: Pattern[] = [
  { distro: 'oracle', re: /\b(?:oracle\s+(?:enterprise\s+)?linux|enterprise\s+linux\s+enterprise\s+linux|oel|ol(?=\s*\d))/i },
  { distro: 'centos-stream', re: /\bcentos\s+stream\b/i },
  { distro: 'centos', re: /\bcent\s?os\b/i },
  { distro: 'rhel', re: /\b(?:red\s*hat\s+enterprise\s+linux|rhel)/i },
  { distro: 'sled', re: /\b(?:suse\s+linux\s+enterprise\s+desktop|sled)\b/i },
  { distro: 'opensuse', re: /\bopen\s*suse\b/i },
  { distro: 'sles', re: /\b(?:suse\s+linux\s+enterprise(?:\s+server)?|sles|suse)\b/i },
  { distro: 'ubuntu', re: /\bubuntu\b/i },
  { distro: 'debian', re: /\bdebian\b/i },
  { distro: 'other', re: /\b(?:fedora|rocky|alma\s?linux|amazon\s+linux|amzn|linux\s+mint|mint|arch\s+linux|gentoo|photon|coreos|flatcar|asianux|mandriva|mandrake|slackware|turbolinux|novell|miracle\s+linux|kylin|alpine|clear\s+linux|scientific\s+linux|cloudlinux|virtuozzo|euleros|openeuler|mageia|freebsd|solaris|darwin|mac\s*os)/i },
  { distro: 'generic-linux', re: /^\s*(?:other\b[^a-z]*(?:[\d.x]+\s+)?(?:or\s+later\s+)?)?(?:gnu\/)?linux\b/i },
  { distro: 'other', re: /\blinux\b/i },
];

/** Architecture words that must not be mistaken for versions. */
const ARCH_NOISE = /\(\s*(?:32|64)[\s-]?bit\s*\)|\b(?:32|64)[\s-]?bit\b|\bx86[_-]64\b|\bamd64\b|\bi[3-6]86\b|\bx86\b|\bia64\b|\baarch64\b|\barm64\b|\bppc64(?:le)?\b|\bs390x?\b/gi;

function firstVersion(rest: string, distro: DistroId): Pick<DistroGuess, 'version' | 'alternatives'> {
  const clean = rest.replace(ARCH_NOISE, ' ');
  if (distro === 'ubuntu') {
    const m = /\b(\d{1,2}\.\d{2})(?:\.\d+)?\b/.exec(clean);
    return m?.[1] ? { version: m[1] } : {};
  }
  const range = /\b(\d+(?:\s*\/\s*\d+)+)\b/.exec(clean);
  if (range?.[1]) {
    const alternatives = range[1].split('/').map((s) => s.trim());
    return { alternatives };
  }
  const m = /\b(\d+(?:\.\d+)*)\b/.exec(clean);
  return m?.[1] ? { version: m[1] } : {};
}

function servicePackIn(text: string): number | undefined {
  const m = /\b(?:SP|service\s+pack)\s*(\d+)\b/i.exec(text);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** Identify from free text (one line or a name); undefined if nothing Linux-like is recognised. */
export function identifyText(text: string): DistroGuess | undefined {
  const line = text.trim();
  for (const { distro, re } of PATTERNS) {
    const m = re.exec(line);
    if (!m) continue;
    const rest = line.slice(m.index + m[0].length);
    const guess: DistroGuess = { distro, text: line, ...firstVersion(rest, distro) };
    if (distro === 'sles' || distro === 'sled') {
      const sp = servicePackIn(rest);
      if (sp !== undefined) {
        guess.servicePack = sp;
        guess.servicePackKnown = true;
      }
    }
    return guess;
  }
  return undefined;
}

const OS_RELEASE_IDS: Record<string, DistroId> = {
  rhel: 'rhel', centos: 'centos', ol: 'oracle', sles: 'sles', sles_sap: 'sles', sled: 'sled', ubuntu: 'ubuntu',
  debian: 'debian', opensuse: 'opensuse', 'opensuse-leap': 'opensuse', 'opensuse-tumbleweed': 'opensuse',
};

/** From /etc/os-release content (ID, VERSION_ID, NAME, PRETTY_NAME). */
export function identifyOsRelease(kv: Map<string, string>): DistroGuess | undefined {
  const id = (kv.get('ID') ?? '').toLowerCase();
  const pretty = kv.get('PRETTY_NAME') || [kv.get('NAME'), kv.get('VERSION')].filter(Boolean).join(' ');
  if (!id && !pretty) return undefined;
  let distro: DistroId | undefined = OS_RELEASE_IDS[id];
  if (distro === 'centos' && /stream/i.test(`${kv.get('NAME') ?? ''} ${pretty}`)) distro = 'centos-stream';
  if (!distro) return identifyText(pretty) ?? { distro: 'other', text: pretty || id };
  const versionId = kv.get('VERSION_ID');
  const guess: DistroGuess = { distro, text: pretty || id };
  if (versionId && /^\d+(\.\d+)*$/.test(versionId)) guess.version = versionId;
  else Object.assign(guess, firstVersion(pretty, distro));
  if ((distro === 'sles' || distro === 'sled') && guess.version) {
    const [, minor] = guess.version.split('.');
    guess.servicePack = minor === undefined ? 0 : Number(minor);
    guess.servicePackKnown = true;
  }
  return guess;
}

/** From /etc/lsb-release content (DISTRIB_ID, DISTRIB_RELEASE, DISTRIB_DESCRIPTION). */
export function identifyLsbRelease(kv: Map<string, string>): DistroGuess | undefined {
  const id = kv.get('DISTRIB_ID') ?? '';
  const release = kv.get('DISTRIB_RELEASE') ?? '';
  const description = kv.get('DISTRIB_DESCRIPTION') || `${id} ${release}`.trim();
  if (!id && !description) return undefined;
  const guess = identifyText(`${id} ${release}`) ?? identifyText(description);
  if (!guess) return { distro: 'other', text: description };
  guess.text = description;
  return guess;
}

/** From /etc/SuSE-release content: a first line naming the product, then VERSION = n, PATCHLEVEL = n. */
export function identifySuseRelease(content: string, kv: Map<string, string>): DistroGuess | undefined {
  const firstLine = content.split('\n').find((l) => l.trim() && !l.includes('='))?.trim() ?? '';
  const guess = identifyText(firstLine) ?? (kv.has('VERSION') ? { distro: 'sles' as const, text: firstLine || 'SUSE' } : undefined);
  if (!guess) return undefined;
  const version = kv.get('VERSION');
  if (version && /^\d+(\.\d+)*$/.test(version)) {
    guess.version = version;
    delete guess.alternatives;
  }
  const patch = kv.get('PATCHLEVEL');
  if (patch !== undefined && /^\d+$/.test(patch)) {
    guess.servicePack = Number(patch);
    guess.servicePackKnown = true;
  }
  if (guess.servicePack !== undefined && !/\bSP\d/i.test(guess.text)) guess.text = `${guess.text} SP${guess.servicePack}`;
  return guess;
}

/** Identify whatever the text is: release-file content with KEY=value pairs, or a single name. */
export function identifyAny(text: string): DistroGuess | undefined {
  const kv = parseKeyValues(text);
  if (kv.has('ID') || kv.has('PRETTY_NAME')) return identifyOsRelease(kv);
  if (kv.has('DISTRIB_ID') || kv.has('DISTRIB_RELEASE')) return identifyLsbRelease(kv);
  if (kv.has('PATCHLEVEL') || (kv.has('VERSION') && /suse/i.test(text))) return identifySuseRelease(text, kv);
  return identifyText(text.split('\n').find((l) => l.trim())?.trim() ?? '');
}
