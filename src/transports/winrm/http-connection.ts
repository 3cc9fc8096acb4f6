// One HTTP/1.1 keep-alive connection, requests strictly one after another. NTLM authenticates the TCP
// connection, not a request, so the WinRM transport must know exactly which socket a request travels
// on and that nothing else shares it; node:http's Agent would silently swap sockets. For TLS the peer
// certificate is handed to the caller before a single byte is written.
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';

export interface HttpResponse {
  status: number;
  /** Header values by lower-case name (repeated headers keep every value). */
  headers: Map<string, string[]>;
  body: Buffer;
}

export interface OpenOptions {
  host: string;
  port: number;
  tls: boolean;
  /** TLS 1.0/1.1 and the ciphers of that time allowed too (Windows Server 2008 R2 SP1 / 2012 defaults). */
  legacyTls?: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PeerCertificate {
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by colons (as openssl prints it). */
  fingerprint256: string;
  pem: string;
}

/** A socket-level failure; `phase` says whether the connection was ever established. */
export class HttpConnectionError extends Error {
  readonly code: string;
  readonly phase: 'connect' | 'request';
  /** True when the server sent no byte of a response (the request may not have been processed). */
  readonly noResponse: boolean;
  constructor(message: string, code: string, phase: 'connect' | 'request', noResponse = true, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HttpConnectionError';
    this.code = code;
    this.phase = phase;
    this.noResponse = noResponse;
  }
}

const MAX_HEAD = 64 * 1024;

interface Pending {
  resolve: (r: HttpResponse) => void;
  reject: (e: Error) => void;
  chunks: Buffer[];
  received: number;
}

export class HttpConnection {
  private pending: Pending | null = null;
  private closedBy: string | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e: NodeJS.ErrnoException) => this.fail(e.code ?? 'ESOCKET', e.message, e));
    socket.on('close', () => this.fail('ECONNRESET', 'the server closed the connection'));
  }

  static open(options: OpenOptions): Promise<HttpConnection> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) { reject(new HttpConnectionError('aborted', 'ABORT_ERR', 'connect')); return; }
      const socket: net.Socket = options.tls
        ? tls.connect({
          host: options.host,
          port: options.port,
          // The certificate is pinned by the caller (trust on first use), not checked against a CA.
          rejectUnauthorized: false,
          // OpenSSL 3's security level 1+ refuses TLS 1.0/1.1 whatever minVersion says; level 0 allows them.
          ...(options.legacyTls ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
          ...(net.isIP(options.host) ? {} : { servername: options.host }),
        })
        : net.connect({ host: options.host, port: options.port });
      let done = false;
      const finish = (err: Error | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
        if (err) { socket.destroy(); reject(err); return; }
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        resolve(new HttpConnection(socket));
      };
      const onError = (e: NodeJS.ErrnoException) => finish(new HttpConnectionError(e.message, e.code ?? 'ESOCKET', 'connect', true, e));
      const onAbort = () => finish(new HttpConnectionError('aborted', 'ABORT_ERR', 'connect'));
      const timer = setTimeout(() => finish(new HttpConnectionError(`no connection within ${options.timeoutMs} ms`, 'ETIMEDOUT', 'connect')), options.timeoutMs);
      socket.once('error', onError);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once(options.tls ? 'secureConnect' : 'connect', () => finish(null));
    });
  }

  /** The server's certificate (TLS connections only). */
  peerCertificate(): PeerCertificate | undefined {
    if (!(this.socket instanceof tls.TLSSocket)) return undefined;
    const raw = this.socket.getPeerCertificate(false)?.raw;
    if (!raw || raw.length === 0) return undefined;
    const cert = new X509Certificate(raw);
    return { fingerprint256: cert.fingerprint256, pem: cert.toString() };
  }

  get alive(): boolean {
    return this.closedBy === null && !this.socket.destroyed;
  }

  /** Sends one request and resolves with the complete response. */
  request(head: { method: string; path: string; headers: Record<string, string> }, body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    if (this.pending) return Promise.reject(new Error('HttpConnection: a request is already in flight'));
    if (!this.alive) return Promise.reject(new HttpConnectionError(this.closedBy ?? 'connection closed', 'ECONNRESET', 'request'));
    return new Promise<HttpResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail('ETIMEDOUT', `no complete response within ${timeoutMs} ms`);
        this.socket.destroy();
      }, timeoutMs);
      this.pending = {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
        chunks: [],
        received: 0,
      };
      const lines = [`${head.method} ${head.path} HTTP/1.1`];
      for (const [k, v] of Object.entries(head.headers)) lines.push(`${k}: ${v}`);
      lines.push(`Content-Length: ${body.length}`, '', '');
      this.socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
    });
  }

  /** Drops the connection; a request in flight rejects. */
  destroy(reason = 'connection closed by the client'): void {
    this.fail('ECONNABORTED', reason);
    this.socket.destroy();
  }

  private fail(code: string, message: string, cause?: unknown): void {
    if (this.closedBy === null) this.closedBy = message;
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    p.reject(new HttpConnectionError(message, code, 'request', p.received === 0, cause));
  }

  private onData(d: Buffer): void {
    const p = this.pending;
    if (!p) {
      // Bytes nobody asked for: the connection is out of step, never reuse it.
      this.destroy('unsolicited data from the server');
      return;
    }
    p.chunks.push(d);
    p.received += d.length;
    let parsed: { response: HttpResponse; rest: number; close: boolean } | null;
    try {
      parsed = parseResponse(Buffer.concat(p.chunks));
    } catch (e) {
      this.fail('EPROTO', (e as Error).message);
      this.socket.destroy();
      return;
    }
    if (!parsed) {
      if (p.chunks.length > 1) p.chunks = [Buffer.concat(p.chunks)];
      return;
    }
    this.pending = null;
    if (parsed.rest > 0 || parsed.close) {
      this.closedBy = parsed.close ? 'the server closed the connection (Connection: close)' : 'unsolicited data from the server';
      this.socket.destroy();
    }
    p.resolve(parsed.response);
  }
}

/** Parses a complete response from `buf`, or returns null when more bytes are needed. */
function parseResponse(buf: Buffer): { response: HttpResponse; rest: number; close: boolean } | null {
  let start = 0;
  while (true) {
    const headEnd = buf.indexOf('\r\n\r\n', start);
    if (headEnd < 0) {
      if (buf.length - start > MAX_HEAD) throw new Error('HTTP response head too large');
      return null;
    }
    const lines = buf.subarray(start, headEnd).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) throw new Error('not an HTTP response');
    const code = Number(status[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    const bodyStart = headEnd + 4;
    if (code >= 100 && code < 200) { start = bodyStart; continue; }
    const close = (headers.get('connection') ?? []).some((v) => /\bclose\b/i.test(v));
    const te = (headers.get('transfer-encoding') ?? []).join(',').toLowerCase();
    if (te.includes('chunked')) {
      const chunked = dechunk(buf, bodyStart);
      if (!chunked) return null;
      return { response: { status: code, headers, body: chunked.body }, rest: buf.length - chunked.end, close };
    }
    const cl = headers.get('content-length')?.[0];
    if (cl !== undefined) {
      const n = Number(cl);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error('bad Content-Length');
      if (buf.length < bodyStart + n) return null;
      return { response: { status: code, headers, body: buf.subarray(bodyStart, bodyStart + n) }, rest: buf.length - bodyStart - n, close };
    }
    if (code === 204 || code === 304) return { response: { status: code, headers, body: Buffer.alloc(0) }, rest: buf.length - bodyStart, close };
    // No length: the body runs to the end of the connection, which this client does not wait for.
    throw new Error('HTTP response without Content-Length or chunked encoding');
  }
}

function dechunk(buf: Buffer, from: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let pos = from;
  while (true) {
    const lineEnd = buf.indexOf('\r\n', pos);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
    pos = lineEnd + 2;
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      const end = buf.indexOf('\r\n\r\n', pos - 2);
      if (end < 0) return null;
      return { body: Buffer.concat(parts), end: end + 4 };
    }
    if (buf.length < pos + size + 2) return null;
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}
