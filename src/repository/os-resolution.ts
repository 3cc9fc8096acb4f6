import { Codes } from '../errors/catalogue.ts';
import { supportedOsList, type Platform } from './os-tags.ts';

/** What an OS name or an on-guest detection resolves to. */
export type OsResolution =
  | { ok: true; tag: string; windowsVersion?: string /* '2008R2','2012','2012R2','2016','2019','2022' */; description: string }
  | {
      ok: false;
      /** Clear text; lists the supported operating systems when the OS is unsupported. */
      reason: string;
      /** True: the OS is known not to be supported (32-bit, other architecture, unsupported distro or version).
       *  False: the input was ambiguous, mismatched or missing; an explicit OS tag or detection can fix it. */
      unsupported: boolean;
      /** The catalogue code the failure maps to (UnsupportedOs, UnsupportedArch, OsNotDetected, OsMismatch). */
      code?: number;
    };

/** An OS string quoted for a message: whitespace collapsed, at most 160 characters. */
export function quoteOs(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return `"${one.length > 160 ? `${one.slice(0, 157)}...` : one}"`;
}

export function resolved(tag: string, description: string, windowsVersion?: string): OsResolution {
  return windowsVersion === undefined ? { ok: true, tag, description } : { ok: true, tag, windowsVersion, description };
}

/** "<what> is not supported[: why]. Supported operating systems (64-bit only): ...". */
export function unsupportedOs(what: string, why: string | undefined, platform: Platform | undefined, code: number = Codes.UnsupportedOs): OsResolution {
  const because = why ? `: ${why}` : '';
  return {
    ok: false,
    unsupported: true,
    code,
    reason: `${what} is not supported by the Mobility Service${because}. Supported operating systems (64-bit only): ${supportedOsList(platform)}.`,
  };
}

/** Not enough information to pick an installer; the caller can give the OS tag or let the OS be detected. */
export function ambiguousOs(reason: string, platform?: Platform): OsResolution {
  const hint = platform === 'windows'
    ? 'Give os.tag "Windows" in the request.'
    : 'Give the OS tag in the request (os.tag), or omit os.name to detect the OS on the machine.';
  return { ok: false, unsupported: false, code: Codes.OsNotDetected, reason: `${reason} ${hint}` };
}
