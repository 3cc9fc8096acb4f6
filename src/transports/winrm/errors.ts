// What can go wrong talking WinRM, and how each failure maps to the catalogue (guest-contract.md,
// Windows step 2): no channel 95103, credentials refused 95107, a WS-Man fault 99020. Messages name the
// host, port and account, never the password.
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { HttpConnectionError } from './http-connection.ts';

/** A SOAP fault from the WS-Management service. */
export class WsmanFault extends Error {
  readonly httpStatus: number;
  /** s:Code/s:Value, e.g. `s:Receiver`. */
  readonly faultCode: string | undefined;
  /** s:Code/s:Subcode/s:Value, e.g. `w:TimedOut`, `w:AccessDenied`. */
  readonly subcode: string | undefined;
  /** WSManFault/@Code, e.g. `2150858793`. */
  readonly wsmanCode: string | undefined;
  readonly reason: string;
  constructor(init: { httpStatus: number; faultCode?: string; subcode?: string; wsmanCode?: string; reason: string }) {
    super(`WS-Management fault ${init.subcode ?? init.faultCode ?? ''} ${init.wsmanCode ?? ''}: ${init.reason}`.replace(/\s+/g, ' '));
    this.name = 'WsmanFault';
    this.httpStatus = init.httpStatus;
    this.faultCode = init.faultCode;
    this.subcode = init.subcode;
    this.wsmanCode = init.wsmanCode;
    this.reason = init.reason;
  }

  /** The local part of the subcode (`TimedOut`, `AccessDenied`, `InvalidSelectors`, ...). */
  get subcodeName(): string | undefined {
    return this.subcode?.replace(/^.*:/, '');
  }
}

/** The server refused the NTLM credentials (or offers no NTLM at all). */
export class WinrmAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WinrmAuthError';
  }
}

/** The caller's certificate pin check refused the server: its own error goes back to the caller unchanged. */
export class CertificateRejected extends Error {
  constructor(readonly rejection: unknown) {
    super('the WinRM certificate was refused by the pin check');
    this.name = 'CertificateRejected';
  }
}

/** A reply that is not what WS-Management or the encryption framing allows. */
export class WinrmProtocolError extends Error {
  readonly httpStatus: number | undefined;
  constructor(message: string, httpStatus?: number) {
    super(message);
    this.name = 'WinrmProtocolError';
    this.httpStatus = httpStatus;
  }
}

export interface ErrorContext {
  host: string;
  port: number;
  transport: 'http' | 'https';
  account: string;
  operation: string;
}

/** What the caller of the client sees: whatever the certificate verifier threw, else a PushError. */
export function callerError(e: unknown, ctx: ErrorContext): unknown {
  return e instanceof CertificateRejected ? e.rejection : toPushError(e, ctx);
}

/**
 * OpenSSL's answers when client and server share no TLS version: the server's protocol_version alert,
 * or its hello naming a version we refuse (Schannel of 2008 R2 SP1 / 2012 offers TLS 1.0 only by
 * default). Not ERR_SSL_WRONG_VERSION_NUMBER: that is a plain-HTTP port answering a TLS hello (95103).
 */
const TLS_VERSION_MISMATCH = new Set(['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE']);

/** Maps any failure of the WinRM stack to a PushError; a PushError passes through unchanged. */
export function toPushError(e: unknown, ctx: ErrorContext): PushError {
  if (e instanceof PushError) return e;
  if (e instanceof CertificateRejected) {
    if (e.rejection instanceof PushError) return e.rejection;
    return new PushError(Codes.CertificateMismatch, { host: ctx.host, port: ctx.port, reason: (e.rejection as Error)?.message ?? String(e.rejection) });
  }
  const where = { host: ctx.host, port: ctx.port, transport: ctx.transport, operation: ctx.operation };
  if (e instanceof HttpConnectionError) {
    if (e.phase === 'connect' && TLS_VERSION_MISMATCH.has(e.code)) {
      return new PushError(Codes.WinrmTlsVersion, { ...where, errno: e.code },
        { message: `WinRM HTTPS on ${ctx.host}:${ctx.port} offers only TLS versions older than 1.2: enable TLS 1.2 on the machine, or set winrmTls "legacy" for this machine.`, cause: e });
    }
    if (e.phase === 'connect') {
      return new PushError(Codes.RemoteExecBlocked, { ...where, errno: e.code, reason: e.message },
        { message: `WinRM on ${ctx.host}:${ctx.port} (${ctx.transport}) cannot be reached: ${e.message}`, cause: e });
    }
    return new PushError(Codes.ConnectionLost, { ...where, errno: e.code, reason: e.message },
      { retryable: true, message: `The WinRM connection to ${ctx.host}:${ctx.port} was lost: ${e.message}`, cause: e });
  }
  if (e instanceof WinrmAuthError) {
    return new PushError(Codes.WindowsCredentials, { ...where, account: ctx.account, reason: e.message },
      { message: `WinRM on ${ctx.host}:${ctx.port} refused the credentials of ${ctx.account}: ${e.message}` });
  }
  if (e instanceof WsmanFault) {
    const fault = { httpStatus: e.httpStatus, faultCode: e.faultCode, subcode: e.subcode, wsmanCode: e.wsmanCode, reason: e.reason };
    if (e.subcodeName === 'AccessDenied') {
      // WinRM lets in administrators (and Remote Management Users) only: the account is not one.
      return new PushError(Codes.WindowsCredentials, { ...where, account: ctx.account, fault },
        { message: `WinRM on ${ctx.host} denied access to ${ctx.account}: ${e.reason}` });
    }
    return new PushError(Codes.CommandFailed, { ...where, fault }, { message: `WinRM ${ctx.operation} failed: ${e.reason}` });
  }
  if (e instanceof WinrmProtocolError) {
    return new PushError(Codes.CommandFailed, { ...where, httpStatus: e.httpStatus, reason: e.message },
      { message: `WinRM ${ctx.operation} failed: ${e.message}` });
  }
  const err = e as Error;
  return new PushError(Codes.CommandFailed, { ...where, reason: err?.message ?? String(e) }, { message: `WinRM ${ctx.operation} failed: ${err?.message ?? String(e)}` });
}
