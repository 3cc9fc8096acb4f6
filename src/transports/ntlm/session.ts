// The client side of NTLMv2: NEGOTIATE -> (CHALLENGE) -> AUTHENTICATE with key exchange and MIC,
// then the established security context (exported session key, sign/seal).
import { randomBytes } from 'node:crypto';
import { parseAccount } from './account.ts';
import { computeNtlmv2Response, fileTime, hmacMd5, ntHash, ntowfv2 } from './crypto.ts';
import { AV_FLAG_MIC_PRESENT, AvId, CLIENT_FLAGS, NegotiateFlags } from './flags.ts';
import {
  DEFAULT_VERSION, MIC_OFFSET, NtlmMessageError, decodeAvPairs, decodeChallenge, encodeAuthenticate, encodeAvPairs,
  encodeNegotiate,
} from './messages.ts';
import { rc4 } from './rc4.ts';
import { EstablishedNtlm } from './established.ts';

export interface NtlmCredentials {
  /** `DOMAIN\user`, `.\user` (local account of the target), `user@dns.domain` (UPN) or `user`. */
  username: string;
  /** The password, or give `ntHash` instead. Never logged, never put in an error. */
  password?: string;
  ntHash?: Buffer;
  /** Overrides the domain part of `username`. */
  domain?: string;
  workstation?: string;
}

/** Fixed values for reproducible tests (MS-NLMP 4.2); leave unset in real use. */
export interface NtlmClientOptions {
  clientChallenge?: Buffer;
  exportedSessionKey?: Buffer;
  timestamp?: Buffer;
  version?: Buffer;
  flags?: number;
}

export class NtlmSession extends EstablishedNtlm {
  private readonly options: NtlmClientOptions;
  private negotiateMsg: Buffer | undefined;
  private negotiated = 0;

  constructor(options: NtlmClientOptions = {}) {
    super();
    this.options = options;
  }

  createNegotiate(): Buffer {
    this.negotiateMsg = encodeNegotiate(this.options.flags ?? CLIENT_FLAGS, this.options.version ?? DEFAULT_VERSION);
    return this.negotiateMsg;
  }

  /** Answers the server's CHALLENGE; the session is established once this returns. */
  processChallenge(challengeMsg: Buffer, creds: NtlmCredentials): Buffer {
    const challenge = decodeChallenge(challengeMsg);
    const requested = this.options.flags ?? CLIENT_FLAGS;
    const flags = (requested & (challenge.flags | NegotiateFlags.REQUEST_TARGET)) >>> 0;
    if (!(flags & NegotiateFlags.UNICODE)) throw new NtlmMessageError('server does not speak Unicode');
    if (!(flags & NegotiateFlags.EXTENDED_SESSIONSECURITY)) throw new NtlmMessageError('server refused extended session security');

    const pairs = decodeAvPairs(challenge.targetInfo);
    const account = parseAccount(creds.username, creds.domain);
    const domain = account.domain ?? pairs.get(AvId.NB_COMPUTER_NAME)?.toString('utf16le') ?? '';
    const hash = creds.ntHash ?? (creds.password !== undefined ? ntHash(creds.password) : undefined);
    if (!hash || hash.length !== 16) throw new NtlmMessageError('a password or a 16-byte NT hash is required');

    // With a server timestamp the client sends a MIC and flags it in the target info (3.1.5.1.2).
    const serverTime = pairs.get(AvId.TIMESTAMP);
    const withMic = serverTime !== undefined;
    let targetInfo = challenge.targetInfo;
    if (withMic) {
      const avFlags = Buffer.alloc(4);
      avFlags.writeUInt32LE(((pairs.get(AvId.FLAGS)?.readUInt32LE(0) ?? 0) | AV_FLAG_MIC_PRESENT) >>> 0);
      pairs.set(AvId.FLAGS, avFlags);
      targetInfo = encodeAvPairs(pairs);
    }
    const time = serverTime ?? this.options.timestamp ?? fileTime();
    const clientChallenge = this.options.clientChallenge ?? randomBytes(8);
    const responseKey = ntowfv2(hash, account.user, domain);
    const r = computeNtlmv2Response(responseKey, challenge.serverChallenge, clientChallenge, time, targetInfo);

    let exportedKey = r.sessionBaseKey;
    let encryptedKey: Buffer = Buffer.alloc(0);
    if (flags & NegotiateFlags.KEY_EXCH) {
      exportedKey = this.options.exportedSessionKey ?? randomBytes(16);
      encryptedKey = rc4(r.sessionBaseKey, exportedKey);
    }
    const auth = encodeAuthenticate({
      flags,
      lmChallengeResponse: withMic ? Buffer.alloc(24) : r.lmChallengeResponse,
      ntChallengeResponse: r.ntChallengeResponse,
      domain,
      user: account.user,
      workstation: creds.workstation ?? '',
      encryptedRandomSessionKey: encryptedKey,
      version: this.options.version ?? DEFAULT_VERSION,
      withMic,
    });
    if (withMic) {
      const negotiate = this.negotiateMsg ?? this.createNegotiate();
      hmacMd5(exportedKey, negotiate, challengeMsg, auth).copy(auth, MIC_OFFSET);
    }
    this.negotiated = flags;
    this.establish(exportedKey, flags, 'client');
    return auth;
  }

  get flags(): number {
    return this.negotiated;
  }
}
