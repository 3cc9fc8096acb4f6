// The HTTP side of WinRM (pywinrm's transport.py): one keep-alive connection authenticated with NTLM
// (raw NTLMSSP tokens under the Negotiate scheme, as Windows accepts them), the TLS certificate handed
// to the caller's pin check on every new connection, and the SOAP bodies sealed with the connection's
// NTLM context when message encryption is on (plain HTTP, where Windows refuses anything else).
import net from 'node:net';
import { NtlmSession } from '../ntlm/index.ts';
import type { NtlmCredentials } from '../ntlm/index.ts';
import { ENCRYPTED_CONTENT_TYPE, decryptMessage, encryptMessage, isEncryptedContentType } from './encryption.ts';
import { CertificateRejected, WinrmAuthError, WinrmProtocolError } from './errors.ts';
import { HttpConnection, HttpConnectionError } from './http-connection.ts';
import type { HttpResponse } from './http-connection.ts';

export interface WinrmHttpTransportOptions {
  host: string;
  port: number;
  https: boolean;
  credentials: NtlmCredentials;
  /** Seal every SOAP body with NTLM (MS-WSMV 2.2.9.1.1). The client turns it on for plain HTTP. */
  encrypt: boolean;
  connectTimeoutMs: number;
  /** https: allow TLS 1.0/1.1 (WinrmConnectOptions.winrmTls "legacy"). */
  legacyTls?: boolean;
  /** Required for https: throws to refuse the server's certificate. */
  verifyCertificate?: (sha256Fingerprint: string, pem: string) => Promise<void>;
  path?: string;
}

export interface SoapReply {
  status: number;
  body: string;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

const SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8';
const USER_AGENT = 'pushinstalld WinRM client';

export class WinrmHttpTransport {
  private conn: HttpConnection | null = null;
  private ntlm: NtlmSession | null = null;
  private readonly hostHeader: string;
  /** Connections opened (and authenticated) so far; tests read it to see reconnects. */
  connections = 0;

  constructor(private readonly options: WinrmHttpTransportOptions) {
    const h = options.host;
    this.hostHeader = `${net.isIPv6(h) ? `[${h}]` : h}:${options.port}`;
  }

  get endpoint(): string {
    return `${this.options.https ? 'https' : 'http'}://${this.hostHeader}${this.options.path ?? '/wsman'}`;
  }

  /** Sends one SOAP message and returns the (decrypted) reply with its HTTP status. */
  async send(soap: string, options: SendOptions): Promise<SoapReply> {
    const { signal } = options;
    if (signal?.aborted) throw new HttpConnectionError('aborted', 'ABORT_ERR', 'request');
    // Aborting drops the connection: the request in flight rejects at once, and the NTLM sequence
    // numbers of a half-sent message can never be trusted again anyway.
    const onAbort = () => this.drop('aborted by the caller');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (let attempt = 0; ; attempt++) {
        const fresh = await this.ensureConnection(signal);
        const res = await this.post(Buffer.from(soap, 'utf8'), options.timeoutMs);
        if (res.status === 401) {
          this.drop('HTTP 401');
          // An established connection whose context the server forgot: authenticate once more.
          if (!fresh && attempt === 0) continue;
          throw new WinrmAuthError(this.options.encrypt || this.options.https
            ? 'HTTP 401 after NTLM authentication'
            : 'HTTP 401: the server refuses unencrypted messages (AllowUnencrypted=false)');
        }
        return { status: res.status, body: this.readBody(res) };
      }
    } catch (e) {
      if (!(e instanceof WinrmAuthError)) this.drop('request failed');
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Drops the connection (a request in flight rejects); the next send reconnects and authenticates. */
  drop(reason = 'dropped'): void {
    this.conn?.destroy(reason);
    this.conn = null;
    this.ntlm = null;
  }

  close(): void {
    this.drop('closed');
  }

  private async post(body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    const conn = this.conn;
    const ntlm = this.ntlm;
    if (!conn || !ntlm) throw new HttpConnectionError('not connected', 'ECONNRESET', 'request');
    const encrypt = this.options.encrypt;
    const payload = encrypt ? encryptMessage(body, (m) => ntlm.seal(m)) : body;
    return conn.request({
      method: 'POST',
      path: this.options.path ?? '/wsman',
      headers: {
        Host: this.hostHeader,
        'User-Agent': USER_AGENT,
        Connection: 'Keep-Alive',
        'Content-Type': encrypt ? ENCRYPTED_CONTENT_TYPE : SOAP_CONTENT_TYPE,
      },
    }, payload, timeoutMs);
  }

  private readBody(res: HttpResponse): string {
    const contentType = res.headers.get('content-type')?.[0];
    if (isEncryptedContentType(contentType)) {
      const ntlm = this.ntlm;
      if (!ntlm) throw new WinrmProtocolError('encrypted reply without an NTLM context', res.status);
      try {
        return decryptMessage(res.body, (data, sig) => ntlm.unseal(data, sig)).toString('utf8');
      } catch (e) {
        throw new WinrmProtocolError(`the encrypted reply does not verify: ${(e as Error).message}`, res.status);
      }
    }
    // With encryption on, a plaintext reply is only acceptable as an error: its content is unauthenticated.
    if (this.options.encrypt && res.status < 400) throw new WinrmProtocolError('the server replied without encryption', res.status);
    return res.body.toString('utf8');
  }

  /** Opens, pins and authenticates a connection unless the current one is still up; true when new. */
  private async ensureConnection(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.conn?.alive && this.ntlm) return false;
    this.drop('reconnecting');
    const o = this.options;
    const conn = await HttpConnection.open({ host: o.host, port: o.port, tls: o.https, legacyTls: o.legacyTls === true, timeoutMs: o.connectTimeoutMs, signal });
    this.conn = conn;
    try {
      if (o.https) {
        const cert = conn.peerCertificate();
        if (!cert) throw new WinrmProtocolError('the server sent no TLS certificate');
        if (!o.verifyCertificate) throw new TypeError('verifyCertificate is required for https');
        try {
          await o.verifyCertificate(cert.fingerprint256, cert.pem);
        } catch (e) {
          throw new CertificateRejected(e);
        }
      }
      if (signal?.aborted) throw new HttpConnectionError('aborted', 'ABORT_ERR', 'request');
      this.ntlm = await this.authenticate(conn);
      this.connections++;
      return true;
    } catch (e) {
      this.drop('authentication failed');
      throw e;
    }
  }

  private async authenticate(conn: HttpConnection): Promise<NtlmSession> {
    const session = new NtlmSession();
    const path = this.options.path ?? '/wsman';
    const headers = (token: Buffer) => ({
      Host: this.hostHeader,
      'User-Agent': USER_AGENT,
      Connection: 'Keep-Alive',
      Authorization: `Negotiate ${token.toString('base64')}`,
    });
    const timeout = this.options.connectTimeoutMs;
    const empty = Buffer.alloc(0);
    const r1 = await conn.request({ method: 'POST', path, headers: headers(session.createNegotiate()) }, empty, timeout);
    if (r1.status !== 401) throw new WinrmProtocolError(`HTTP ${r1.status} to an NTLM NEGOTIATE (expected 401 with a challenge)`, r1.status);
    const offered = r1.headers.get('www-authenticate') ?? [];
    const challenge = offered.map((v) => /^(?:Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(v)?.[1]).find((t) => t !== undefined);
    if (!challenge) {
      const schemes = offered.map((v) => v.split(/\s/)[0]).join(', ') || 'none';
      throw new WinrmAuthError(`the WinRM service did not answer the NTLM negotiation (offers: ${schemes}); enable Negotiate authentication`);
    }
    let authenticate: Buffer;
    try {
      authenticate = session.processChallenge(Buffer.from(challenge, 'base64'), this.options.credentials);
    } catch (e) {
      throw new WinrmProtocolError(`unusable NTLM challenge: ${(e as Error).message}`);
    }
    const r2 = await conn.request({ method: 'POST', path, headers: headers(authenticate) }, empty, timeout);
    if (r2.status === 401) throw new WinrmAuthError('HTTP 401 after the NTLM exchange (wrong user name or password, or the account may not use WinRM)');
    if (r2.status >= 400) throw new WinrmProtocolError(`HTTP ${r2.status} after NTLM authentication`, r2.status);
    return session;
  }
}
