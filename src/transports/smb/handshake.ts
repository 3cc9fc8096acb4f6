// NEGOTIATE and SESSION_SETUP (MS-SMB2 3.2.5.2, 3.2.5.3): dialect and capabilities, the 3.1.1 preauth
// integrity hash, SPNEGO/NTLMSSP logon, and the session's signing and encryption keys.
import { createHash, randomBytes } from 'node:crypto';
import { NtlmSession } from '../ntlm/session.ts';
import type { NtlmCredentials } from '../ntlm/session.ts';
import type { SmbConnection } from './connection.ts';
import { Cipher, Encryptor } from './encryption.ts';
import type { CipherId } from './encryption.ts';
import { AsrCode, SmbError } from './errors.ts';
import { NtStatus } from './ntstatus.ts';
import {
  Capability, Command, Dialect, HeaderFlag, NegotiateContextType, SecurityMode, SessionFlag, negotiateRequest,
  parseNegotiateResponse, parseSessionSetupResponse, sessionSetupRequest,
} from './packets.ts';
import { NTLMSSP_OID, NegState, decodeNegTokenResp, encodeNegTokenInit, encodeNegTokenResp, mechTypeList } from './spnego.ts';
import { Signer, SigningAlgorithm, kdf } from './signing.ts';
import type { SigningAlgorithmId } from './signing.ts';

export const ALL_DIALECTS = [Dialect.SMB202, Dialect.SMB210, Dialect.SMB300, Dialect.SMB302, Dialect.SMB311];

export interface NegotiateResult {
  dialect: number;
  serverSigningRequired: boolean;
  capabilities: number;
  maxReadSize: number;
  maxWriteSize: number;
  maxTransactSize: number;
  cipher: CipherId | undefined;
  signingAlgorithm: SigningAlgorithmId;
  preauthHash: Buffer;
}

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** SMB 3.1.1's negotiate contexts: SHA-512 preauth integrity, the ciphers and signing algorithms we take. */
function negotiateContexts(dialects: number[]): Array<{ type: number; data: Buffer }> {
  if (!dialects.includes(Dialect.SMB311)) return [];
  const preauthData = Buffer.alloc(38);
  preauthData.writeUInt16LE(1, 0); // one hash algorithm
  preauthData.writeUInt16LE(32, 2); // salt length
  preauthData.writeUInt16LE(1, 4); // SHA-512
  randomBytes(32).copy(preauthData, 6);
  const encData = Buffer.from([2, 0, Cipher.AES_128_GCM, 0, Cipher.AES_128_CCM, 0]);
  const signData = Buffer.from([2, 0, SigningAlgorithm.AES_GMAC, 0, SigningAlgorithm.AES_CMAC, 0]);
  return [
    { type: NegotiateContextType.PREAUTH_INTEGRITY, data: preauthData },
    { type: NegotiateContextType.ENCRYPTION, data: encData },
    { type: NegotiateContextType.SIGNING, data: signData },
  ];
}

/** The cipher and signing algorithm of the chosen dialect (3.1.1: from the server's negotiate contexts). */
function chosenAlgorithms(neg: ReturnType<typeof parseNegotiateResponse>): { cipher: CipherId | undefined; signingAlgorithm: SigningAlgorithmId } {
  let cipher: CipherId | undefined;
  let signingAlgorithm: SigningAlgorithmId = neg.dialect >= Dialect.SMB300 ? SigningAlgorithm.AES_CMAC : SigningAlgorithm.HMAC_SHA256;
  if (neg.dialect === Dialect.SMB311) {
    for (const c of neg.contexts) {
      if (c.type === NegotiateContextType.ENCRYPTION && c.data.readUInt16LE(0) === 1) {
        const id = c.data.readUInt16LE(2);
        if (id === Cipher.AES_128_GCM || id === Cipher.AES_128_CCM) cipher = id;
      } else if (c.type === NegotiateContextType.SIGNING && c.data.readUInt16LE(0) === 1) {
        const id = c.data.readUInt16LE(2);
        if (id === SigningAlgorithm.AES_GMAC || id === SigningAlgorithm.AES_CMAC) signingAlgorithm = id;
      }
    }
  } else if ((neg.dialect === Dialect.SMB300 || neg.dialect === Dialect.SMB302) && neg.capabilities & Capability.ENCRYPTION) {
    cipher = Cipher.AES_128_CCM;
  }
  return { cipher, signingAlgorithm };
}

export async function negotiate(
  conn: SmbConnection, o: { dialects: number[]; requireSigning: boolean; signal?: AbortSignal },
): Promise<NegotiateResult> {
  let sent: Buffer | undefined;
  const res = await conn.request(Command.NEGOTIATE, negotiateRequest({
    dialects: o.dialects,
    securityMode: o.requireSigning ? SecurityMode.SIGNING_REQUIRED | SecurityMode.SIGNING_ENABLED : SecurityMode.SIGNING_ENABLED,
    capabilities: Capability.LARGE_MTU | Capability.ENCRYPTION,
    clientGuid: randomBytes(16),
    contexts: negotiateContexts(o.dialects),
  }), { signal: o.signal, onSent: (m) => { sent = Buffer.from(m); } });
  if (res.header.status !== NtStatus.SUCCESS) {
    throw new SmbError(`SMB negotiate refused by ${conn.host}:${conn.port}`, {
      ntStatus: res.header.status, asrCode: AsrCode.FILE_SHARING,
    });
  }
  const neg = parseNegotiateResponse(res.msg);
  if (!o.dialects.includes(neg.dialect)) {
    throw new SmbError(`server chose dialect 0x${neg.dialect.toString(16)} that was not offered`, { asrCode: AsrCode.FILE_SHARING });
  }
  const zero = Buffer.alloc(64);
  const preauthHash = neg.dialect === Dialect.SMB311 ? sha512(sha512(zero, sent!), res.msg) : zero;
  conn.multiCredit = neg.dialect >= Dialect.SMB210 && (neg.capabilities & Capability.LARGE_MTU) !== 0;
  return {
    dialect: neg.dialect,
    serverSigningRequired: (neg.securityMode & SecurityMode.SIGNING_REQUIRED) !== 0,
    capabilities: neg.capabilities,
    maxReadSize: neg.maxReadSize,
    maxWriteSize: neg.maxWriteSize,
    maxTransactSize: neg.maxTransactSize,
    ...chosenAlgorithms(neg),
    preauthHash,
  };
}

export interface SessionResult {
  signer: Signer;
  encryptor: Encryptor | undefined;
  /** The server wants every message of this session encrypted. */
  encryptData: boolean;
}

function label(s: string): Buffer {
  return Buffer.from(`${s}\0`, 'latin1');
}

/** The session's signing key and, when the dialect encrypts, its encryptor (MS-SMB2 3.2.5.3.1). */
function sessionKeys(neg: NegotiateResult, sessionKey: Buffer, preauth: Buffer): { signingKey: Buffer; encryptor: Encryptor | undefined } {
  if (neg.dialect === Dialect.SMB311) {
    const encryptor = neg.cipher
      ? new Encryptor(neg.cipher, kdf(sessionKey, label('SMBC2SCipherKey'), preauth), kdf(sessionKey, label('SMBS2CCipherKey'), preauth))
      : undefined;
    return { signingKey: kdf(sessionKey, label('SMBSigningKey'), preauth), encryptor };
  }
  if (neg.dialect >= Dialect.SMB300) {
    const encryptor = neg.cipher
      ? new Encryptor(neg.cipher, kdf(sessionKey, label('SMB2AESCCM'), label('ServerIn ')), kdf(sessionKey, label('SMB2AESCCM'), label('ServerOut')))
      : undefined;
    return { signingKey: kdf(sessionKey, label('SMB2AESCMAC'), label('SmbSign')), encryptor };
  }
  return { signingKey: sessionKey, encryptor: undefined };
}

/** The final logon reply must not be a guest or null session, and its SPNEGO token must complete and verify. */
function checkLogon(setup: ReturnType<typeof parseSessionSetupResponse>, ntlm: NtlmSession, mechTypes: Buffer, who: string): void {
  if (setup.sessionFlags & (SessionFlag.IS_GUEST | SessionFlag.IS_NULL)) {
    throw new SmbError(`${who}: the server logged us on as guest (unknown account or wrong password)`, {
      ntStatus: NtStatus.LOGON_FAILURE,
    });
  }
  if (setup.token.length === 0) return;
  const fin = decodeNegTokenResp(setup.token);
  if (fin.negState !== undefined && fin.negState !== NegState.ACCEPT_COMPLETED) {
    throw new SmbError(`${who}: SPNEGO did not complete`, { ntStatus: NtStatus.LOGON_FAILURE });
  }
  if (fin.mechListMic && !ntlm.verify(mechTypes, fin.mechListMic)) {
    throw new SmbError(`${who}: the server's mechListMIC does not verify`, { ntStatusName: 'BAD_SIGNATURE' });
  }
}

export async function sessionSetup(
  conn: SmbConnection, neg: NegotiateResult, creds: NtlmCredentials, o: { requireSigning: boolean; signal?: AbortSignal },
): Promise<SessionResult> {
  const ntlm = new NtlmSession();
  const mechTypes = mechTypeList([NTLMSSP_OID]);
  const securityMode = neg.serverSigningRequired || o.requireSigning ? SecurityMode.SIGNING_REQUIRED : SecurityMode.SIGNING_ENABLED;
  let preauth = neg.preauthHash;
  const is311 = neg.dialect === Dialect.SMB311;
  const hashSent = (m: Buffer): void => { if (is311) preauth = sha512(preauth, m); };
  const who = `SMB logon to ${conn.host}:${conn.port} as ${creds.username}`;

  const first = await conn.request(Command.SESSION_SETUP,
    sessionSetupRequest(securityMode, encodeNegTokenInit(mechTypes, ntlm.createNegotiate())),
    { signal: o.signal, onSent: hashSent });
  if (first.header.status !== NtStatus.MORE_PROCESSING_REQUIRED) throw SmbError.fromStatus(first.header.status, who);
  if (is311) preauth = sha512(preauth, first.msg);
  conn.sessionId = first.header.sessionId;
  const challenge = decodeNegTokenResp(parseSessionSetupResponse(first.msg).token);
  if (!challenge.responseToken) throw new SmbError(`${who}: server sent no NTLM challenge`);
  const authenticate = ntlm.processChallenge(Buffer.from(challenge.responseToken), creds);
  const token = encodeNegTokenResp({ responseToken: authenticate, mechListMic: ntlm.sign(mechTypes) });

  const second = await conn.request(Command.SESSION_SETUP, sessionSetupRequest(securityMode, token),
    { signal: o.signal, onSent: hashSent });
  if (second.header.status !== NtStatus.SUCCESS) throw SmbError.fromStatus(second.header.status, who);
  const setup = parseSessionSetupResponse(second.msg);
  checkLogon(setup, ntlm, mechTypes, who);
  const { signingKey, encryptor } = sessionKeys(neg, ntlm.sessionKey, preauth);
  const signer = new Signer(neg.signingAlgorithm, signingKey);
  // The final SESSION_SETUP reply proves the server knows the session key (always signed on 3.1.1).
  if (second.header.flags & HeaderFlag.SIGNED) {
    if (!signer.verify(second.msg)) throw new SmbError(`${who}: the server's logon reply has a bad signature`, { ntStatusName: 'BAD_SIGNATURE' });
  } else if (is311 || securityMode & SecurityMode.SIGNING_REQUIRED) {
    throw new SmbError(`${who}: the server's logon reply is not signed`, { ntStatusName: 'BAD_SIGNATURE' });
  }
  return { signer, encryptor, encryptData: (setup.sessionFlags & SessionFlag.ENCRYPT_DATA) !== 0 };
}
