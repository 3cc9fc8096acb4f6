// HTTP-SPNEGO-session-encrypted bodies (MS-WSMV 2.2.9.1.1): how Windows and pywinrm's encryption.py
// carry a SOAP message sealed with the connection's NTLM context over plain HTTP. Used in both
// directions (client requests, test-server replies), so it only needs a seal or unseal function.
//
//   --Encrypted Boundary\r\n
//   \tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n
//   \tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext bytes>\r\n
//   --Encrypted Boundary\r\n
//   \tContent-Type: application/octet-stream\r\n
//   <u32le signature length = 16><NTLM signature><sealed message>--Encrypted Boundary--\r\n
import type { SealedMessage } from '../ntlm/index.ts';

export const SPNEGO_ENCRYPTED_PROTOCOL = 'application/HTTP-SPNEGO-session-encrypted';
export const ENCRYPTED_CONTENT_TYPE =
  `multipart/encrypted;protocol="${SPNEGO_ENCRYPTED_PROTOCOL}";boundary="Encrypted Boundary"`;

const BOUNDARY = Buffer.from('--Encrypted Boundary\r\n');
const END_BOUNDARY = Buffer.from('--Encrypted Boundary--');
const CRLF = Buffer.from('\r\n');

export class EncryptionError extends Error {
  constructor(message: string) {
    super(`encrypted WinRM message: ${message}`);
    this.name = 'EncryptionError';
  }
}

/** True when a Content-Type header announces an NTLM/Negotiate-encrypted body. */
export function isEncryptedContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const ct = contentType.toLowerCase();
  return ct.startsWith('multipart/encrypted') && ct.includes(SPNEGO_ENCRYPTED_PROTOCOL.toLowerCase());
}

/** Seals `message` (the SOAP bytes) and frames it. The seal must be the next one of this connection. */
export function encryptMessage(message: Buffer, seal: (m: Buffer) => SealedMessage): Buffer {
  const sealed = seal(message);
  const sigLen = Buffer.alloc(4);
  sigLen.writeUInt32LE(sealed.signature.length, 0);
  return Buffer.concat([
    BOUNDARY,
    Buffer.from(`\tContent-Type: ${SPNEGO_ENCRYPTED_PROTOCOL}\r\n`),
    Buffer.from(`\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${message.length}\r\n`),
    BOUNDARY,
    Buffer.from('\tContent-Type: application/octet-stream\r\n'),
    sigLen, sealed.signature, sealed.data,
    END_BOUNDARY, CRLF,
  ]);
}

/**
 * Unframes and unseals every part of an encrypted body, in order. The sealed length comes from the
 * header (`Length=`), never from scanning the binary for the boundary, which could occur in it.
 */
export function decryptMessage(body: Buffer, unseal: (data: Buffer, signature: Buffer) => Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  const expect = (what: Buffer) => {
    if (!body.subarray(pos, pos + what.length).equals(what)) throw new EncryptionError(`expected "${what.toString().trim()}" at byte ${pos}`);
    pos += what.length;
  };
  while (true) {
    expect(BOUNDARY);
    const headerEnd = body.indexOf(BOUNDARY, pos);
    if (headerEnd < 0) throw new EncryptionError('missing the second part');
    const header = body.subarray(pos, headerEnd).toString('latin1');
    if (!header.toLowerCase().includes(SPNEGO_ENCRYPTED_PROTOCOL.toLowerCase())) throw new EncryptionError('not HTTP-SPNEGO-session-encrypted');
    const length = /Length=(\d+)/i.exec(header);
    if (!length) throw new EncryptionError('no plaintext length in OriginalContent');
    const plainLength = Number(length[1]);
    pos = headerEnd + BOUNDARY.length;
    const lineEnd = body.indexOf(CRLF, pos);
    if (lineEnd < 0 || !/content-type:\s*application\/octet-stream/i.test(body.subarray(pos, lineEnd).toString('latin1'))) {
      throw new EncryptionError('the second part is not application/octet-stream');
    }
    pos = lineEnd + CRLF.length;
    if (pos + 4 > body.length) throw new EncryptionError('truncated');
    const sigLength = body.readUInt32LE(pos);
    pos += 4;
    if (sigLength !== 16 || pos + sigLength + plainLength > body.length) throw new EncryptionError('truncated or bad signature length');
    const signature = body.subarray(pos, pos + sigLength);
    pos += sigLength;
    const data = body.subarray(pos, pos + plainLength);
    pos += plainLength;
    out.push(unseal(data, signature));
    if (body.subarray(pos, pos + END_BOUNDARY.length).equals(END_BOUNDARY)) break;
  }
  return Buffer.concat(out);
}
