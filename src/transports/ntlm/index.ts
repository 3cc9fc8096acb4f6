// Public surface of the NTLM module, shared by the SMB client and the WinRM transport (the server side,
// for the test lab, is test/lab/ntlm-server.ts).
export { NtlmSession } from './session.ts';
export type { NtlmCredentials, NtlmClientOptions } from './session.ts';
export { NtlmSecurity, NtlmSignatureError } from './security.ts';
export type { SealedMessage } from './security.ts';
export { NtlmMessageError } from './messages.ts';
export { parseAccount } from './account.ts';
export type { NtlmAccount } from './account.ts';
export { ntHash } from './crypto.ts';
export { NegotiateFlags } from './flags.ts';
