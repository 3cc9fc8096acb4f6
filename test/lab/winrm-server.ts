// The lab's WinRM server: the protocol side of the Windows guest simulator. It speaks what a Windows
// WinRM listener speaks to a client: HTTP 401 + `WWW-Authenticate: Negotiate` for raw NTLMSSP tokens,
// an NTLM context per TCP connection, HTTP-SPNEGO-session-encrypted bodies (and, like Windows with
// AllowUnencrypted=false, HTTP 401 for a plaintext SOAP body over HTTP), and WS-Man/WinRS for cmd
// shells (winrm-shells.ts). What a command line does is the `execute` callback's business.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { NtlmServer } from './ntlm-server.ts';
import { ENCRYPTED_CONTENT_TYPE, decryptMessage, encryptMessage, isEncryptedContentType } from '../../src/transports/winrm/index.ts';
import { AccountTable } from './winrm-accounts.ts';
import type { Account, WinrmUser } from './winrm-accounts.ts';
import { ShellHost } from './winrm-shells.ts';
import type { Execute, ShellStats } from './winrm-shells.ts';
import { Faults, fault, readRequest } from './winrm-soap.ts';
import type { SoapReply } from './winrm-soap.ts';

export type { Execute, ExecuteContext, ExecuteResult } from './winrm-shells.ts';
export type { WinrmUser } from './winrm-accounts.ts';

export interface WinrmServerOptions {
  /** A loopback address. */
  host: string;
  /** Default: a free port. */
  port?: number;
  /** PEM key and certificate: an HTTPS listener (5986-style) instead of HTTP (5985-style). */
  /** legacyOnly: TLS 1.0 and nothing newer, as Schannel on Windows Server 2008 R2 SP1 by default. */
  https?: { key: string; cert: string; legacyOnly?: boolean };
  computerName: string;
  /** NetBIOS domain the guest belongs to (the NTLM challenge's domain); default: workgroup (= computerName). */
  domainName?: string;
  /** DNS domain, accepted as a UPN suffix. */
  dnsDomainName?: string;
  users: WinrmUser[];
  /** Windows' default is false: plaintext SOAP over HTTP is refused with 401. */
  allowUnencrypted?: boolean;
  execute: Execute;
}

export interface WinrmServerStats extends ShellStats {
  /** Successful NTLM authentications (one per connection that logged on). */
  authentications: number;
  authFailures: number;
  /** Requests that came encrypted (HTTP-SPNEGO-session-encrypted). */
  encryptedMessages: number;
  /** Plaintext SOAP bodies refused over HTTP (AllowUnencrypted=false). */
  plaintextRefused: number;
}

export interface WinrmServer {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
  stats(): WinrmServerStats;
  /** Closes every client connection (and its NTLM context), as an idle timeout or a restart would; shells stay. */
  dropConnections(): void;
}

interface Connection {
  ntlm: NtlmServer | null;
  account: Account | null;
}

const MAX_BODY = 16 * 1024 * 1024;

function unauthorized(res: http.ServerResponse, token?: string, scheme = 'Negotiate'): void {
  // Windows offers Negotiate (and Kerberos) on its default listener; Basic is off by default.
  const offers = token !== undefined ? [`${scheme} ${token}`] : ['Negotiate', 'Kerberos'];
  res.writeHead(401, { 'WWW-Authenticate': offers, Server: 'Microsoft-HTTPAPI/2.0', 'Content-Length': '0' }).end();
}

/** What the listener does with each HTTP request: NTLM per connection, message encryption, WS-Man. */
class WinrmListener {
  readonly accounts: AccountTable;
  readonly shells: ShellHost;
  readonly counters = { authentications: 0, authFailures: 0, encryptedMessages: 0, plaintextRefused: 0 };
  private readonly connections = new WeakMap<Socket, Connection>();

  constructor(private readonly o: WinrmServerOptions) {
    this.accounts = new AccountTable(o.users, o.computerName, o.dnsDomainName);
    this.shells = new ShellHost(o.computerName, o.execute);
  }

  /** Collects the body (at most MAX_BODY), then handles the request. */
  readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) { res.writeHead(413, { 'Content-Length': '0' }).end(); req.destroy(); return; }
      chunks.push(d);
    });
    req.on('end', () => {
      this.handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Length': '0' }).end();
        process.stderr.write(`winrm-server: ${(e as Error)?.stack ?? String(e)}\n`);
      });
    });
  };

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    if ((req.url ?? '').split('?')[0]!.toLowerCase() !== '/wsman') { res.writeHead(404, { 'Content-Length': '0' }).end(); return; }
    if (req.method !== 'POST') { res.writeHead(405, { 'Content-Length': '0' }).end(); return; }
    let conn = this.connections.get(req.socket);
    if (!conn) { conn = { ntlm: null, account: null }; this.connections.set(req.socket, conn); }

    const authorization = req.headers.authorization;
    if (authorization !== undefined && !this.authenticate(authorization, conn, res)) return;
    if (!conn.ntlm || !conn.account) { unauthorized(res); return; }
    // pywinrm sets up encryption with an empty authenticated POST; Windows answers it with 200.
    if (body.length === 0) { res.writeHead(200, { Server: 'Microsoft-HTTPAPI/2.0', 'Content-Length': '0' }).end(); return; }

    const encrypted = isEncryptedContentType(req.headers['content-type']);
    if (!encrypted && this.o.https === undefined && !this.o.allowUnencrypted) {
      this.counters.plaintextRefused++;
      conn.ntlm = null;
      conn.account = null;
      unauthorized(res);
      return;
    }
    const ntlm = conn.ntlm;
    let soap = body;
    if (encrypted) {
      try {
        soap = decryptMessage(body, (data, sig) => ntlm.unseal(data, sig));
      } catch {
        // A message that does not verify leaves the connection's sequence numbers useless.
        res.writeHead(400, { 'Content-Length': '0', Connection: 'close' }).end();
        req.socket.destroy();
        return;
      }
      this.counters.encryptedMessages++;
    }
    await this.answer(soap, conn.account, res, encrypted ? ntlm : null);
  }

  /**
   * One leg of the NTLM exchange in an Authorization header: NEGOTIATE gets a 401 with the challenge,
   * AUTHENTICATE logs the connection on. Returns whether the request goes on (false: answered with 401).
   */
  private authenticate(authorization: string, conn: Connection, res: http.ServerResponse): boolean {
    const m = /^(Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    const token = m ? Buffer.from(m[2]!, 'base64') : undefined;
    // Raw NTLMSSP only: a SPNEGO-wrapped or Kerberos token gets a plain 401 (no such mechanism here).
    if (!m || !token || token.length < 12 || token.subarray(0, 8).toString('latin1') !== 'NTLMSSP\0') { unauthorized(res); return false; }
    const type = token.readUInt32LE(8);
    if (type === 1) {
      conn.ntlm = new NtlmServer({ computerName: this.o.computerName, domainName: this.o.domainName ?? this.o.computerName });
      conn.account = null;
      try {
        unauthorized(res, conn.ntlm.processNegotiate(token).toString('base64'), m[1]!);
      } catch {
        conn.ntlm = null;
        unauthorized(res);
      }
      return false;
    }
    if (type !== 3 || !conn.ntlm) { conn.ntlm = null; unauthorized(res); return false; }
    let matched: Account | undefined;
    try {
      conn.ntlm.processAuthenticate(token, (user, domain) => {
        matched = this.accounts.find(user, domain);
        return matched?.hash;
      });
    } catch {
      this.counters.authFailures++;
      conn.ntlm = null;
      conn.account = null;
      unauthorized(res);
      return false;
    }
    conn.account = matched ?? null;
    this.counters.authentications++;
    return true;
  }

  /** Runs the WS-Man request and sends the reply (sealed when the request was); nothing if the client left. */
  private async answer(soap: Buffer, account: Account, res: http.ServerResponse, seal: NtlmServer | null): Promise<void> {
    const gone = new AbortController();
    const onClose = () => { if (!res.writableFinished) gone.abort(); };
    res.once('close', onClose);
    let answer: SoapReply | null;
    let messageId: string | undefined;
    try {
      const request = readRequest(soap);
      messageId = request.messageId;
      answer = await this.shells.handle(request, { username: account.username, domain: account.domain }, gone.signal);
    } catch (e) {
      answer = fault({ messageId }, this.o.computerName, Faults.invalidRequest((e as Error).message));
    }
    if (answer === null || gone.signal.aborted) return;
    const xml = Buffer.from(answer.xml, 'utf8');
    const payload = seal ? encryptMessage(xml, (m) => seal.seal(m)) : xml;
    res.writeHead(answer.status, {
      Server: 'Microsoft-HTTPAPI/2.0',
      'Content-Type': seal ? ENCRYPTED_CONTENT_TYPE : 'application/soap+xml;charset=UTF-8',
      'Content-Length': String(payload.length),
    }).end(payload);
  }
}

export async function startWinrmServer(o: WinrmServerOptions): Promise<WinrmServer> {
  const listener = new WinrmListener(o);
  // OpenSSL 3 serves TLS 1.0 only at security level 0 (SHA-1 MACs, the ciphers of that time).
  const legacy = o.https?.legacyOnly ? { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1' as const, ciphers: 'DEFAULT@SECLEVEL=0' } : {};
  const server = o.https ? https.createServer({ key: o.https.key, cert: o.https.cert, ...legacy }, listener.onRequest) : http.createServer(listener.onRequest);
  // Windows keeps an idle connection (and its NTLM context) for two minutes.
  server.keepAliveTimeout = 120_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    host: o.host,
    port,
    url: `${o.https ? 'https' : 'http'}://${hostPart}:${port}/wsman`,
    stats: () => ({ ...listener.shells.stats, ...listener.counters }),
    dropConnections: () => server.closeAllConnections(),
    stop: async () => {
      listener.shells.abortAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
