// Guest output as it goes into errors, the same for Linux and Windows guests.
import { randomBytes } from 'node:crypto';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { redactor } from '../logging/redactor.ts';
import type { ExecResult } from '../transports/transport.ts';

/** A marker no program prints by chance (24 hex digits, new for every command), to tell our own markers in a guest's output. */
export function newNonce(): string {
  return randomBytes(12).toString('hex');
}

/** The last lines of some output, redacted, for an error's details. */
export function tail(text: string, lines = 40): string {
  const all = redactor.redact(text).replace(/\s+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

/** A command's exit code; 'non-zero' for a part of a batched Windows command line, which tells success or failure only. */
export type ExitCode = ExecResult['code'] | 'non-zero';

/** A command that had to exit 0 and did not: `code` (default: command failed) with its exit code and output. */
export function commandFailed(res: { code: ExitCode; stdout: string; stderr: string }, what: string, code: number = Codes.CommandFailed): PushError {
  return new PushError(code, { what, exitCode: res.code, stderr: tail(res.stderr), stdout: tail(res.stdout) });
}

const PROGRESS_STEP = 64 * 1024 * 1024;

/** A copy's onProgress: a log line every 64 MiB and at the end. */
export function logCopyProgress(log: (line: string) => void): (done: number, total: number) => void {
  let lastLogged = 0;
  return (done, total) => {
    if (done - lastLogged >= PROGRESS_STEP || done === total) {
      lastLogged = done;
      log(`copied ${done} of ${total} bytes`);
    }
  };
}
