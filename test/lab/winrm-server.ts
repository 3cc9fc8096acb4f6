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
  https?: { key: string; cert: string };
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

export async function startWinrmServer(o: WinrmServerOptions): Promise<WinrmServer> {
  const accounts = new AccountTable(o.users, o.computerName, o.dnsDomainName);
  const shells = new ShellHost(o.computerName, o.execute);
  const counters = { authentications: 0, authFailures: 0, encryptedMessages: 0, plaintextRefused: 0 };
  const connections = new WeakMap<Socket, Connection>();
  const isHttps = o.https !== undefined;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) { res.writeHead(413, { 'Content-Length': '0' }).end(); req.destroy(); return; }
      chunks.push(d);
    });
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Length': '0' }).end();
        process.stderr.write(`winrm-server: ${(e as Error)?.stack ?? String(e)}\n`);
      });
    });
  };

  const unauthorized = (res: http.ServerResponse, token?: string, scheme = 'Negotiate') => {
    // Windows offers Negotiate (and Kerberos) on its default listener; Basic is off by default.
    const offers = token !== undefined ? [`${scheme} ${token}`] : ['Negotiate', 'Kerberos'];
    res.writeHead(401, { 'WWW-Authenticate': offers, Server: 'Microsoft-HTTPAPI/2.0', 'Content-Length': '0' }).end();
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    if ((req.url ?? '').split('?')[0]!.toLowerCase() !== '/wsman') { res.writeHead(404, { 'Content-Length': '0' }).end(); return; }
    if (req.method !== 'POST') { res.writeHead(405, { 'Content-Length': '0' }).end(); return; }
    let conn = connections.get(req.socket);
    if (!conn) { conn = { ntlm: null, account: null }; connections.set(req.socket, conn); }

    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const m = /^(Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
      const token = m ? Buffer.from(m[2]!, 'base64') : undefined;
      // Raw NTLMSSP only: a SPNEGO-wrapped or Kerberos token gets a plain 401 (no such mechanism here).
      if (!m || !token || token.length < 12 || token.subarray(0, 8).toString('latin1') !== 'NTLMSSP\0') { unauthorized(res); return; }
      const scheme = m[1]!;
      const type = token.readUInt32LE(8);
      if (type === 1) {
        conn.ntlm = new NtlmServer({ computerName: o.computerName, domainName: o.domainName ?? o.computerName });
        conn.account = null;
        let challenge: Buffer;
        try {
          challenge = conn.ntlm.processNegotiate(token);
        } catch {
          conn.ntlm = null;
          unauthorized(res);
          return;
        }
        unauthorized(res, challenge.toString('base64'), scheme);
        return;
      }
      if (type !== 3 || !conn.ntlm) { conn.ntlm = null; unauthorized(res); return; }
      let matched: Account | undefined;
      try {
        conn.ntlm.processAuthenticate(token, (user, domain) => {
          matched = accounts.find(user, domain);
          return matched?.hash;
        });
      } catch {
        counters.authFailures++;
        conn.ntlm = null;
        conn.account = null;
        unauthorized(res);
        return;
      }
      conn.account = matched ?? null;
      counters.authentications++;
    }
    if (!conn.ntlm || !conn.account) { unauthorized(res); return; }
    // pywinrm sets up encryption with an empty authenticated POST; Windows answers it with 200.
    if (body.length === 0) { res.writeHead(200, { Server: 'Microsoft-HTTPAPI/2.0', 'Content-Length': '0' }).end(); return; }

    const ntlm = conn.ntlm;
    const encrypted = isEncryptedContentType(req.headers['content-type']);
    if (!encrypted && !isHttps && !o.allowUnencrypted) {
      counters.plaintextRefused++;
      conn.ntlm = null;
      conn.account = null;
      unauthorized(res);
      return;
    }
    let soap: Buffer;
    if (encrypted) {
      try {
        soap = decryptMessage(body, (data, sig) => ntlm.unseal(data, sig));
      } catch {
        // A message that does not verify leaves the connection's sequence numbers useless.
        res.writeHead(400, { 'Content-Length': '0', Connection: 'close' }).end();
        req.socket.destroy();
        return;
      }
      counters.encryptedMessages++;
    } else {
      soap = body;
    }

    const gone = new AbortController();
    const onClose = () => { if (!res.writableFinished) gone.abort(); };
    res.once('close', onClose);
    let answer: SoapReply | null;
    let messageId: string | undefined;
    try {
      const request = readRequest(soap);
      messageId = request.messageId;
      answer = await shells.handle(request, { username: conn.account.username, domain: conn.account.domain }, gone.signal);
    } catch (e) {
      answer = fault({ messageId }, o.computerName, Faults.invalidRequest((e as Error).message));
    }
    if (answer === null || gone.signal.aborted) return;
    const xml = Buffer.from(answer.xml, 'utf8');
    const payload = encrypted ? encryptMessage(xml, (m) => ntlm.seal(m)) : xml;
    res.writeHead(answer.status, {
      Server: 'Microsoft-HTTPAPI/2.0',
      'Content-Type': encrypted ? ENCRYPTED_CONTENT_TYPE : 'application/soap+xml;charset=UTF-8',
      'Content-Length': String(payload.length),
    }).end(payload);
  }

  const server = o.https ? https.createServer({ key: o.https.key, cert: o.https.cert }, handler) : http.createServer(handler);
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
    url: `${isHttps ? 'https' : 'http'}://${hostPart}:${port}/wsman`,
    stats: () => ({ ...shells.stats, ...counters }),
    dropConnections: () => server.closeAllConnections(),
    stop: async () => {
      shells.abortAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
