// The lab's NTLM acceptor for WinRM: the project's NtlmServer, plus one Windows behaviour it lacks.
// ntlm-auth (pywinrm's NTLM) sends a NEGOTIATE that offers OEM strings only, then encodes AUTHENTICATE
// in whatever the CHALLENGE chose; Windows answers such a NEGOTIATE with a Unicode CHALLENGE, while
// NtlmServer refuses it ("client does not offer Unicode"). So the NEGOTIATE is handed over with the
// Unicode bit set, and the MIC, which covers the client's original bytes, is checked against those.
import { NegotiateFlags, NtlmServer } from '../../src/transports/ntlm/index.ts';

const FLAGS_OFFSET = 12;

export class WindowsLikeNtlmServer extends NtlmServer {
  override processNegotiate(negotiateMsg: Buffer): Buffer {
    if (negotiateMsg.length < FLAGS_OFFSET + 4) return super.processNegotiate(negotiateMsg);
    const flags = negotiateMsg.readUInt32LE(FLAGS_OFFSET);
    if (flags & NegotiateFlags.UNICODE || !(flags & NegotiateFlags.OEM)) return super.processNegotiate(negotiateMsg);
    const unicode = Buffer.from(negotiateMsg);
    unicode.writeUInt32LE((flags | NegotiateFlags.UNICODE) >>> 0, FLAGS_OFFSET);
    const challenge = super.processNegotiate(unicode);
    // NtlmServer keeps the NEGOTIATE for the MIC in a (TypeScript-)private field; the MIC must cover
    // the bytes the client sent. If that field is ever renamed, pywinrm's logon fails the cross-check.
    if (!Reflect.set(this, 'negotiateMsg', negotiateMsg)) throw new Error('NtlmServer internals changed');
    return challenge;
  }
}
