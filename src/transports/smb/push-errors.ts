// SMB failures as catalogue errors, so that the file channel's users see PushErrors only.
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { redactor } from '../../logging/redactor.ts';
import { SmbError } from './errors.ts';

const TRANSIENT = new Set<number>([Codes.Unreachable, Codes.ConnectionLost, Codes.NoLogonServers]);

/**
 * An SMB failure as a catalogue error: the client already names the ASR code of each NTSTATUS
 * (guest-contract.md, Windows step 1); transport failures in the middle of an operation become
 * "connection lost" (retried). `what` says what was being done, for the details.
 */
export function smbToPushError(e: unknown, what: string, signal?: AbortSignal): PushError {
  if (e instanceof PushError) return e;
  if (signal?.aborted) return new PushError(Codes.Cancelled);
  if (e instanceof SmbError) {
    const details: Record<string, unknown> = { what, ntStatus: e.ntStatusName, cause: redactor.redact(e.message) };
    let code = e.asrCode ?? (e.transient ? Codes.ConnectionLost : Codes.CommandFailed);
    // A dropped connection after the session was up is "lost", not "unreachable".
    if (code === Codes.Unreachable && what !== 'connect' && e.ntStatusName !== 'ETIMEDOUT') code = Codes.ConnectionLost;
    return new PushError(code, details, TRANSIENT.has(code) ? { retryable: true, cause: e } : { cause: e });
  }
  const err = e as NodeJS.ErrnoException;
  return new PushError(Codes.ConnectionLost, { what, cause: redactor.redact(err?.message ?? String(e)) }, { retryable: true, cause: e });
}
