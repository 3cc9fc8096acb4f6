// The OS and connection vocabulary every layer shares (api schemas, job records, accounts, pipeline).

export const OS_FAMILIES = ['windows', 'linux'] as const;
export type OsFamily = (typeof OS_FAMILIES)[number];

/** How commands reach a Windows guest: WinRM over HTTP (NTLM sealing), over HTTPS, or OpenSSH. */
export const WINDOWS_TRANSPORTS = ['winrm-http', 'winrm-https', 'ssh'] as const;
export type WindowsTransport = (typeof WINDOWS_TRANSPORTS)[number];

/**
 * TLS versions WinRM over HTTPS accepts: "modern" (TLS 1.2 and later, Node's default) or "legacy" (TLS
 * 1.0 and 1.1 too, for Windows Server 2008 R2 SP1 / 2012 whose Schannel has TLS 1.2 off by default).
 */
export const WINRM_TLS = ['modern', 'legacy'] as const;
export type WinrmTls = (typeof WINRM_TLS)[number];

/** What to do with a guest's SSH host key or WinRM certificate: pin on first use, require a pin, or ignore. */
export const HOST_KEY_POLICIES = ['tofu', 'strict', 'off'] as const;
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

export function isHostKeyPolicy(value: string): value is HostKeyPolicy {
  return (HOST_KEY_POLICIES as readonly string[]).includes(value);
}
