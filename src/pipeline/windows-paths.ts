/** An absolute Windows path (drive letter) with characters that are safe inside cmd.exe double quotes. */
export function isSafeWindowsPath(p: string): boolean {
  return /^[A-Za-z]:\\(?:[A-Za-z0-9 ._()+-]+\\?)*$/.test(p) && !p.split('\\').includes('..') && p.length <= 240;
}

export const DEFAULT_WINDOWS_INSTALL_DIR = 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery';
