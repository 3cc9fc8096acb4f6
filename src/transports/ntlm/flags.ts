// NTLMSSP negotiate flags (MS-NLMP 2.2.2.5) and AV pair ids (2.2.2.1).

export const NegotiateFlags = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  IDENTIFY: 0x00100000,
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  KEY_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  KEY_56: 0x80000000,
} as const;

export const AvId = {
  EOL: 0,
  NB_COMPUTER_NAME: 1,
  NB_DOMAIN_NAME: 2,
  DNS_COMPUTER_NAME: 3,
  DNS_DOMAIN_NAME: 4,
  DNS_TREE_NAME: 5,
  FLAGS: 6,
  TIMESTAMP: 7,
  SINGLE_HOST: 8,
  TARGET_NAME: 9,
  CHANNEL_BINDINGS: 10,
} as const;

/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC. */
export const AV_FLAG_MIC_PRESENT = 0x2;

/** The flags our client asks for: NTLMv2 with key exchange, 128-bit keys, signing and sealing. */
export const CLIENT_FLAGS =
  NegotiateFlags.KEY_56 |
  NegotiateFlags.KEY_EXCH |
  NegotiateFlags.KEY_128 |
  NegotiateFlags.VERSION |
  NegotiateFlags.TARGET_INFO |
  NegotiateFlags.EXTENDED_SESSIONSECURITY |
  NegotiateFlags.ALWAYS_SIGN |
  NegotiateFlags.NTLM |
  NegotiateFlags.SEAL |
  NegotiateFlags.SIGN |
  NegotiateFlags.REQUEST_TARGET |
  NegotiateFlags.UNICODE;
