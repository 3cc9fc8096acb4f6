import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export function abortError(): PushError {
  return new PushError(Codes.Cancelled);
}

/** Maps an error from ssh2 to the catalogue. Secrets are never in ssh2's messages, but we redact anyway upstream. */
export function mapSshError(e: unknown, phase: 'connect' | 'exec' | 'copy', authFailureCode: number): PushError {
  if (e instanceof PushError) return e;
  const err = e as NodeJS.ErrnoException & { level?: string };
  const details: Record<string, unknown> = { phase, cause: err?.message ?? String(e) };
  if (err?.code) details.errno = err.code;
  const sftpStatus = (e as { code?: unknown })?.code;
  if (typeof sftpStatus === 'number') {
    // An SFTP status: the server answered, so this is not a network fault.
    if (sftpStatus === 3) return new PushError(Codes.AccessDenied, { ...details, sftpStatus });
    if (/no space|quota/i.test(err.message ?? '')) return new PushError(Codes.CopySpace, { ...details, sftpStatus });
    return new PushError(Codes.CommandFailed, { ...details, sftpStatus });
  }
  if (err?.level === 'client-authentication') {
    return new PushError(authFailureCode, { ...details, reason: 'authentication failed (all offered methods were refused)' });
  }
  if (err?.level === 'client-timeout') return new PushError(Codes.Unreachable, { ...details, reason: 'SSH handshake timed out' });
  if (err?.code && UNREACHABLE.has(err.code)) return new PushError(Codes.Unreachable, details);
  if ((err?.code && RESET.has(err.code)) || /Not connected|No response from server|connection lost|Channel open failure|Unexpected (packet|EOF)/i.test(err?.message ?? '')) {
    return new PushError(Codes.ConnectionLost, details, { retryable: true });
  }
  if (phase === 'connect') return new PushError(Codes.Unreachable, details);
  return new PushError(Codes.ConnectionLost, details, { retryable: true });
}
