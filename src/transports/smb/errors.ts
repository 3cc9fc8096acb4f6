// The one error type the SMB client throws. It carries the NTSTATUS (or the socket failure) and the
// ASR error code that guest-contract.md (Windows, step 1) assigns to it; the daemon's catalogue maps
// `asrCode` to message, causes and action. Messages never contain a password.
import { NtStatus, ntStatusName } from './ntstatus.ts';

/** ASR error codes (asr-facts.md section 3) the SMB step can end in. */
export const AsrCode = {
  CREDENTIALS: 95107,
  ACCESS_DENIED: 95517,
  TRUST_FAILURE: 95518,
  ACCOUNT_DISABLED: 95519,
  ACCOUNT_LOCKED_OUT: 95520,
  NO_LOGON_SERVERS: 95521,
  FILE_SHARING: 95105,
  FILE_SHARING_ALT: 95106,
  UNREACHABLE: 95117,
  LOW_DISK_SPACE: 95524,
} as const;

const ASR_BY_STATUS = new Map<number, number>([
  [NtStatus.LOGON_FAILURE, AsrCode.CREDENTIALS],
  [NtStatus.WRONG_PASSWORD, AsrCode.CREDENTIALS],
  [NtStatus.NO_SUCH_USER, AsrCode.CREDENTIALS],
  [NtStatus.PASSWORD_EXPIRED, AsrCode.CREDENTIALS],
  [NtStatus.PASSWORD_MUST_CHANGE, AsrCode.CREDENTIALS],
  [NtStatus.ACCOUNT_EXPIRED, AsrCode.CREDENTIALS],
  [NtStatus.ACCOUNT_RESTRICTION, AsrCode.CREDENTIALS],
  [NtStatus.INVALID_LOGON_HOURS, AsrCode.CREDENTIALS],
  [NtStatus.INVALID_WORKSTATION, AsrCode.CREDENTIALS],
  [NtStatus.ACCESS_DENIED, AsrCode.ACCESS_DENIED],
  [NtStatus.ACCOUNT_DISABLED, AsrCode.ACCOUNT_DISABLED],
  [NtStatus.ACCOUNT_LOCKED_OUT, AsrCode.ACCOUNT_LOCKED_OUT],
  [NtStatus.NO_LOGON_SERVERS, AsrCode.NO_LOGON_SERVERS],
  [NtStatus.TRUSTED_RELATIONSHIP_FAILURE, AsrCode.TRUST_FAILURE],
  [NtStatus.TRUSTED_DOMAIN_FAILURE, AsrCode.TRUST_FAILURE],
  [NtStatus.BAD_NETWORK_NAME, AsrCode.FILE_SHARING],
  [NtStatus.DISK_FULL, AsrCode.LOW_DISK_SPACE],
]);

export function asrCodeForStatus(status: number): number | undefined {
  return ASR_BY_STATUS.get(status >>> 0);
}

export interface SmbErrorInit {
  /** NTSTATUS of the reply, or undefined for transport failures. */
  ntStatus?: number;
  /** Overrides the name (e.g. `ECONNREFUSED`, `TIMEOUT`) for transport failures. */
  ntStatusName?: string;
  asrCode?: number;
  /** Retrying could help (connection trouble), as opposed to a permanent refusal. */
  transient?: boolean;
  cause?: unknown;
}

export class SmbError extends Error {
  readonly ntStatus: number | undefined;
  readonly ntStatusName: string;
  readonly asrCode: number | undefined;
  readonly transient: boolean;

  constructor(message: string, init: SmbErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'SmbError';
    this.ntStatus = init.ntStatus;
    this.ntStatusName = init.ntStatusName ?? (init.ntStatus === undefined ? 'UNKNOWN' : ntStatusName(init.ntStatus));
    this.asrCode = init.asrCode ?? (init.ntStatus === undefined ? undefined : asrCodeForStatus(init.ntStatus));
    this.transient = init.transient ?? false;
  }

  /** An error for a failed SMB2 reply: `what` says which operation (and path) failed. */
  static fromStatus(status: number, what: string): SmbError {
    return new SmbError(`${what}: ${ntStatusName(status)}`, { ntStatus: status >>> 0 });
  }
}

/** Maps a socket error from connect() to the ASR code of an unreachable or closed SMB port. */
export function fromSocketError(err: NodeJS.ErrnoException, host: string, port: number): SmbError {
  const code = err.code ?? 'ESOCKET';
  const where = `${host}:${port}`;
  if (code === 'ECONNREFUSED') {
    return new SmbError(`SMB port refused at ${where} (File and Printer Sharing off?)`, {
      ntStatusName: code, asrCode: AsrCode.FILE_SHARING, transient: true, cause: err,
    });
  }
  return new SmbError(`SMB server ${where} unreachable (${code})`, {
    ntStatusName: code, asrCode: AsrCode.UNREACHABLE, transient: true, cause: err,
  });
}
