// Validators for the paths a request may name. Commands sent to guests are built from values that
// passed these, so they stay safe inside sh single quotes and cmd.exe double quotes.

const SAFE_POSIX_PATH = /^\/(?:[A-Za-z0-9._+-]+\/?)*$/;

/** An absolute POSIX path of letters, digits and . _ + - (no spaces, no ..). */
export function isSafeAbsolutePath(p: string): boolean {
  return SAFE_POSIX_PATH.test(p) && !p.split('/').includes('..') && p.length <= 512;
}

/** An absolute Windows path (drive letter) with characters that are safe inside cmd.exe double quotes. */
export function isSafeWindowsPath(p: string): boolean {
  return /^[A-Za-z]:\\(?:[A-Za-z0-9 ._()+-]+\\?)*$/.test(p) && !p.split('\\').includes('..') && p.length <= 240;
}

/** Where the agent goes on Linux when the request names no installLocation (guest-contract.md). */
export const DEFAULT_LINUX_INSTALL_DIR = '/usr/local/ASR';
/** Where the agent goes on Windows when the request names no installLocation (guest-contract.md). */
export const DEFAULT_WINDOWS_INSTALL_DIR = 'C:\\Program Files (x86)\\Microsoft Azure Site Recovery';
