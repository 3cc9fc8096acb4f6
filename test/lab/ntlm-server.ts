// The server side of NTLMv2 for the lab's WinRM stand-in and the NTLM tests (the daemon is only ever a
// client): answers NEGOTIATE with a CHALLENGE, checks an AUTHENTICATE against the user's NT hash, derives
// the same keys as the client.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fileTime, hmacMd5, ntowfv2 } from '../../src/transports/ntlm/crypto.ts';
import { AV_FLAG_MIC_PRESENT, AvId, NegotiateFlags } from '../../src/transports/ntlm/flags.ts';
import { decodeAuthenticate, decodeAvPairs, decodeNegotiate, encodeAvPairs, encodeChallenge } from '../../src/transports/ntlm/messages.ts';
import type { AvPairs } from '../../src/transports/ntlm/messages.ts';
import { rc4 } from '../../src/transports/ntlm/rc4.ts';
import { EstablishedNtlm } from '../../src/transports/ntlm/established.ts';

export class NtlmAuthError extends Error {
  constructor(message: string) {
    super(`NTLM authentication failed: ${message}`);
    this.name = 'NtlmAuthError';
  }
}

export interface NtlmServerOptions {
  /** NetBIOS names announced in the challenge's target info. */
  computerName: string;
  domainName: string;
  dnsComputerName?: string;
  dnsDomainName?: string;
  /** Fixed values for reproducible tests. */
  serverChallenge?: Buffer;
  timestamp?: Buffer;
}

/** Returns the NT hash (MD4 of the UTF-16LE password) of a known user, or undefined. */
export type NtHashLookup = (user: string, domain: string) => Buffer | undefined;

export interface NtlmAuthResult {
  user: string;
  domain: string;
  workstation: string;
}

const SERVER_FLAGS =
  NegotiateFlags.UNICODE | NegotiateFlags.REQUEST_TARGET | NegotiateFlags.SIGN | NegotiateFlags.SEAL |
  NegotiateFlags.NTLM | NegotiateFlags.ALWAYS_SIGN | NegotiateFlags.EXTENDED_SESSIONSECURITY |
  NegotiateFlags.TARGET_INFO | NegotiateFlags.VERSION | NegotiateFlags.KEY_128 | NegotiateFlags.KEY_EXCH |
  NegotiateFlags.KEY_56;

export class NtlmServer extends EstablishedNtlm {
  private readonly options: NtlmServerOptions;
  private negotiateMsg: Buffer | undefined;
  private challengeMsg: Buffer | undefined;
  private serverChallenge: Buffer | undefined;

  constructor(options: NtlmServerOptions) {
    super();
    this.options = options;
  }

  processNegotiate(negotiateMsg: Buffer): Buffer {
    const neg = decodeNegotiate(negotiateMsg);
    // Like Windows, answer in Unicode even to a client that offered OEM strings only (ntlm-auth,
    // pywinrm's NTLM, does): the client then encodes AUTHENTICATE as the CHALLENGE says.
    if (!(neg.flags & (NegotiateFlags.UNICODE | NegotiateFlags.OEM))) throw new NtlmAuthError('client offers neither Unicode nor OEM strings');
    const o = this.options;
    const flags = ((SERVER_FLAGS & (neg.flags | NegotiateFlags.UNICODE | NegotiateFlags.TARGET_INFO | NegotiateFlags.VERSION)) |
      NegotiateFlags.TARGET_TYPE_SERVER) >>> 0;
    const pairs: AvPairs = new Map();
    pairs.set(AvId.NB_DOMAIN_NAME, Buffer.from(o.domainName, 'utf16le'));
    pairs.set(AvId.NB_COMPUTER_NAME, Buffer.from(o.computerName, 'utf16le'));
    pairs.set(AvId.DNS_DOMAIN_NAME, Buffer.from(o.dnsDomainName ?? o.domainName.toLowerCase(), 'utf16le'));
    pairs.set(AvId.DNS_COMPUTER_NAME, Buffer.from(o.dnsComputerName ?? o.computerName.toLowerCase(), 'utf16le'));
    pairs.set(AvId.TIMESTAMP, o.timestamp ?? fileTime());
    this.serverChallenge = o.serverChallenge ?? randomBytes(8);
    this.negotiateMsg = negotiateMsg;
    this.challengeMsg = encodeChallenge({
      flags,
      serverChallenge: this.serverChallenge,
      targetName: o.computerName,
      targetInfo: encodeAvPairs(pairs),
    });
    return this.challengeMsg;
  }

  /** Checks the client's proof; throws NtlmAuthError (never naming a secret) if it does not hold. */
  processAuthenticate(authenticateMsg: Buffer, lookup: NtHashLookup): NtlmAuthResult {
    if (!this.serverChallenge || !this.challengeMsg || !this.negotiateMsg) throw new NtlmAuthError('no challenge was sent');
    const auth = decodeAuthenticate(authenticateMsg);
    if (auth.ntChallengeResponse.length <= 24) throw new NtlmAuthError('only NTLMv2 is accepted');
    const hash = lookup(auth.user, auth.domain);
    if (!hash) throw new NtlmAuthError('unknown user');

    const proof = auth.ntChallengeResponse.subarray(0, 16);
    const temp = auth.ntChallengeResponse.subarray(16);
    let sessionBaseKey: Buffer | undefined;
    for (const domain of new Set([auth.domain, auth.domain.toUpperCase()])) {
      const key = ntowfv2(hash, auth.user, domain);
      if (timingSafeEqual(hmacMd5(key, this.serverChallenge, temp), proof)) {
        sessionBaseKey = hmacMd5(key, proof);
        break;
      }
    }
    if (!sessionBaseKey) throw new NtlmAuthError('wrong password');

    let exportedKey = sessionBaseKey;
    if (auth.flags & NegotiateFlags.KEY_EXCH) {
      if (auth.encryptedRandomSessionKey.length !== 16) throw new NtlmAuthError('missing session key');
      exportedKey = rc4(sessionBaseKey, auth.encryptedRandomSessionKey);
    }
    // temp = RespType(1) HiRespType(1) Reserved(6) Time(8) ClientChallenge(8) Reserved(4) AvPairs
    const clientPairs = decodeAvPairs(temp.subarray(28));
    const avFlags = clientPairs.get(AvId.FLAGS)?.readUInt32LE(0) ?? 0;
    if (avFlags & AV_FLAG_MIC_PRESENT) {
      if (!auth.mic) throw new NtlmAuthError('MIC announced but missing');
      const zeroed = Buffer.from(authenticateMsg);
      zeroed.fill(0, auth.micOffset, auth.micOffset + 16);
      const mic = hmacMd5(exportedKey, this.negotiateMsg, this.challengeMsg, zeroed);
      if (!timingSafeEqual(mic, auth.mic)) throw new NtlmAuthError('MIC does not verify');
    }
    this.establish(exportedKey, auth.flags, 'server');
    return { user: auth.user, domain: auth.domain, workstation: auth.workstation };
  }

}
