/**
 * Quoting for the guest's shell. Commands are built from validated values only; quoting is the second
 * line of defence, so it is strict: POSIX single quotes (no expansion at all), and cmd.exe double quotes
 * around anything with a metacharacter, refusing the characters cmd.exe expands even inside quotes.
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a NUL byte cannot be passed to a shell');
  if (/^[A-Za-z0-9_\-./=:,@+%]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Joins a command and its arguments for POSIX sh. */
export function shCommand(...args: string[]): string {
  return args.map(shQuote).join(' ');
}

const CMD_FORBIDDEN = /["%!\r\n\0]/;

/**
 * Quotes one argument for cmd.exe. Values that contain characters cmd.exe would interpret even inside
 * double quotes (`"`, `%`, `!`) or line breaks are refused rather than escaped: no path, account or host
 * name we send needs them.
 */
export function cmdQuote(value: string): string {
  if (CMD_FORBIDDEN.test(value)) {
    throw new Error(`value contains a character that cannot be passed safely to cmd.exe: ${JSON.stringify(value.replace(/[^"%!]/g, ''))}`);
  }
  if (value === '' || /[\s()[\]{}=;,'+`~^&|<>]/.test(value) || value.endsWith('\\')) {
    // A trailing backslash would escape the closing quote for the C runtime's argv parser: double it.
    return `"${value.replace(/\\+$/, (m) => m + m)}"`;
  }
  return value;
}

export function cmdCommand(...args: string[]): string {
  return args.map(cmdQuote).join(' ');
}
