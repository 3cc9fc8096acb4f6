// NTLMv2 one-way functions and key derivation (MS-NLMP 3.3.2, 3.4.5). HMAC-MD5 and MD5 come from
// node:crypto; MD4 and RC4 are ours.
import { createHash, createHmac } from 'node:crypto';
import { md4 } from './md4.ts';
import { NegotiateFlags } from './flags.ts';

export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** NTOWFv1: MD4 of the UTF-16LE password (the "NT hash"). */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/** NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(User) + UserDom)). */
export function ntowfv2(ntHashValue: Uint8Array, user: string, domain: string): Buffer {
  return hmacMd5(ntHashValue, Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

/** The NTLMv2_CLIENT_CHALLENGE ("temp" in 3.3.2) without the leading NTProofStr. */
export function clientChallengeBlob(time: Buffer, clientChallenge: Uint8Array, targetInfo: Uint8Array): Buffer {
  const head = Buffer.alloc(28);
  head[0] = 1; // RespType
  head[1] = 1; // HiRespType
  time.copy(head, 8);
  head.set(clientChallenge, 16);
  return Buffer.concat([head, targetInfo, Buffer.alloc(4)]);
}

export interface Ntlmv2Responses {
  ntChallengeResponse: Buffer;
  lmChallengeResponse: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 (3.3.2). */
export function computeNtlmv2Response(
  responseKey: Uint8Array,
  serverChallenge: Uint8Array,
  clientChallenge: Uint8Array,
  time: Buffer,
  targetInfo: Uint8Array,
): Ntlmv2Responses {
  const temp = clientChallengeBlob(time, clientChallenge, targetInfo);
  const ntProofStr = hmacMd5(responseKey, serverChallenge, temp);
  return {
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    lmChallengeResponse: Buffer.concat([hmacMd5(responseKey, serverChallenge, clientChallenge), clientChallenge]),
    sessionBaseKey: hmacMd5(responseKey, ntProofStr),
  };
}

/** Windows FILETIME (100 ns ticks since 1601) as 8 little-endian bytes. */
export function fileTime(date: Date = new Date()): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(date.getTime()) * 10000n + 116444736000000000n);
  return b;
}

const MAGIC = {
  clientSign: 'session key to client-to-server signing key magic constant\0',
  serverSign: 'session key to server-to-client signing key magic constant\0',
  clientSeal: 'session key to client-to-server sealing key magic constant\0',
  serverSeal: 'session key to server-to-client sealing key magic constant\0',
};

function md5(...parts: Uint8Array[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

export interface DirectionKeys {
  signKey: Buffer;
  sealKey: Buffer;
}

/** SIGNKEY and SEALKEY (3.4.5.2, 3.4.5.3) for extended session security. */
export function deriveKeys(exportedSessionKey: Uint8Array, flags: number, direction: 'client' | 'server'): DirectionKeys {
  const signKey = md5(exportedSessionKey, Buffer.from(direction === 'client' ? MAGIC.clientSign : MAGIC.serverSign, 'latin1'));
  let base: Uint8Array = exportedSessionKey;
  if (!(flags & NegotiateFlags.KEY_128)) base = exportedSessionKey.subarray(0, flags & NegotiateFlags.KEY_56 ? 7 : 5);
  const sealKey = md5(base, Buffer.from(direction === 'client' ? MAGIC.clientSeal : MAGIC.serverSeal, 'latin1'));
  return { signKey, sealKey };
}
