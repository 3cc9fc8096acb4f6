// The account forms a Windows guest accepts: DOMAIN\user, .\user (local to the target) and UPN.

export interface NtlmAccount {
  user: string;
  /** The domain sent in AUTHENTICATE; `undefined` means "the target's own computer name" (.\user). */
  domain: string | undefined;
}

export function parseAccount(account: string, domain?: string): NtlmAccount {
  const slash = account.indexOf('\\');
  if (slash >= 0) {
    const dom = account.slice(0, slash);
    const user = account.slice(slash + 1);
    if (!user) throw new Error('account has an empty user name');
    return { user, domain: dom === '.' ? undefined : dom };
  }
  if (domain !== undefined) return { user: account, domain: domain === '.' ? undefined : domain };
  // A UPN (user@dns.domain) travels whole in the user field with an empty domain (MS-NLMP 3.1.5.1.2).
  return { user: account, domain: account.includes('@') ? '' : undefined };
}
