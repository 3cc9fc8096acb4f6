import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';

/** `C:\a\b` → { drive: 'C', rest: 'a\b' }; the transports that reach Windows guests convert from this. */
export function splitWindowsPath(p: string): { drive: string; rest: string } {
  const m = /^([A-Za-z]):\\?(.*)$/.exec(p);
  if (!m) throw new PushError(Codes.Internal, { reason: `not an absolute Windows path: ${p}` });
  return { drive: (m[1] as string).toUpperCase(), rest: (m[2] as string).replace(/\\+$/, '') };
}

/** Whether `p` is a Windows path with a drive letter (`C:\...`) rather than a POSIX one. */
export function isWindowsPath(p: string): boolean {
  return /^[A-Za-z]:(\\|$)/.test(p);
}
