// The accounts a simulated Windows guest knows, as WinRM's NTLM sees them: local accounts (domain =
// the computer name, `.` or empty) and domain accounts (NetBIOS domain, or a UPN user@dns.domain with an
// empty domain). Only NT hashes are kept once the server has started.
import { ntHash } from '../../src/transports/ntlm/index.ts';

export interface WinrmUser {
  username: string;
  /** NetBIOS domain of a domain account; absent for a local account of the guest. */
  domain?: string;
  password: string;
}

export interface Account {
  username: string;
  /** The domain WinRS reports: the account's domain, or the computer name for a local account. */
  domain: string;
  hash: Buffer;
}

export class AccountTable {
  private readonly accounts: Array<Account & { local: boolean }>;

  constructor(users: WinrmUser[], private readonly computerName: string, private readonly dnsDomain: string | undefined) {
    this.accounts = users.map((u) => ({
      username: u.username,
      domain: u.domain ?? computerName,
      local: u.domain === undefined,
      hash: ntHash(u.password),
    }));
  }

  /** The account an AUTHENTICATE message names, if this guest knows it. */
  find(user: string, domain: string): Account | undefined {
    const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const at = user.lastIndexOf('@');
    if (at > 0 && domain === '') {
      const name = user.slice(0, at);
      const suffix = user.slice(at + 1);
      return this.accounts.find((a) => eq(a.username, name) && (a.local
        ? eq(suffix, this.computerName)
        : eq(suffix, a.domain) || eq(suffix.split('.')[0]!, a.domain) || (this.dnsDomain !== undefined && eq(suffix, this.dnsDomain))));
    }
    return this.accounts.find((a) => eq(a.username, user) && (a.local
      ? domain === '' || domain === '.' || eq(domain, this.computerName)
      : eq(domain, a.domain)));
  }
}
