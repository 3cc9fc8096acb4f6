// The OS and connection vocabulary every layer shares (api schemas, job records, accounts, pipeline).

export const OS_FAMILIES = ['windows', 'linux'] as const;
export type OsFamily = (typeof OS_FAMILIES)[number];

/** How commands reach a Windows guest: WinRM over HTTP (NTLM sealing), over HTTPS, or OpenSSH. */
export const WINDOWS_TRANSPORTS = ['winrm-http', 'winrm-https', 'ssh'] as const;
export type WindowsTransport = (typeof WINDOWS_TRANSPORTS)[number];

/** What to do with a guest's SSH host key or WinRM certificate: pin on first use, require a pin, or ignore. */
export const HOST_KEY_POLICIES = ['tofu', 'strict', 'off'] as const;
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

export function isHostKeyPolicy(value: string): value is HostKeyPolicy {
  return (HOST_KEY_POLICIES as readonly string[]).includes(value);
}
