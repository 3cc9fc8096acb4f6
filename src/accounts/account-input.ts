// Validation of a run-as account request: the checks a create or an update must pass before anything
// is sealed and stored, each refusal a ValidationError naming the field (never echoing a secret).
import { randomUUID } from 'node:crypto';
import type { OsFamily } from '../domain/os.ts';
import { ValidationError } from '../errors/validation-error.ts';
import type { AccountInput, AccountSecrets, AccountWithSecrets, RunAsAccount } from './account.ts';

const LINUX_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const WINDOWS_USER = /^[^"/\\[\]:;|=,+*?<>@\s](?:[^"/\\[\]:;|=,+*?<>@]{0,102}[^"/\\[\]:;|=,+*?<>@\s])?$/;
const WINDOWS_DOMAIN = /^(\.|[A-Za-z0-9][A-Za-z0-9.-]{0,253})$/;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** Splits `DOMAIN\user`, `.\user` and `user@domain` forms of a Windows account. */
export function normaliseWindowsAccount(username: string, domain: string | null | undefined): { username: string; domain: string } {
  let user = username;
  let dom = domain ?? null;
  const back = user.indexOf('\\');
  if (back >= 0) {
    if (dom) throw new ValidationError('domain', 'give the domain either in username (DOMAIN\\user) or in domain, not both');
    dom = user.slice(0, back);
    user = user.slice(back + 1);
  } else if (user.includes('@')) {
    const at = user.lastIndexOf('@');
    if (dom) throw new ValidationError('domain', 'give the domain either in username (user@domain) or in domain, not both');
    dom = user.slice(at + 1);
    user = user.slice(0, at);
  }
  if (!WINDOWS_USER.test(user)) throw new ValidationError('username', 'is not a valid Windows user name');
  dom = dom === null || dom === '' ? '.' : dom;
  if (!WINDOWS_DOMAIN.test(dom)) throw new ValidationError('domain', 'must be a NetBIOS or DNS domain name, or "." for a local account');
  return { username: user, domain: dom };
}

interface Identity {
  osFamily: OsFamily;
  name: string;
  username: string;
  domain: string | null;
}

/** OS family, name, user and domain of the account as it will be after the request. */
function identity(input: AccountInput, existing: RunAsAccount | undefined): Identity {
  const osFamily = input.osFamily ?? existing?.osFamily;
  if (osFamily !== 'linux' && osFamily !== 'windows') throw new ValidationError('osFamily', 'must be "windows" or "linux"');
  if (existing && input.osFamily && input.osFamily !== existing.osFamily) throw new ValidationError('osFamily', 'cannot be changed; create another account');
  const name = (input.name ?? existing?.name ?? '').trim();
  if (name === '' || name.length > 128) throw new ValidationError('name', 'must be 1 to 128 characters');
  const username = input.username ?? existing?.username ?? '';
  // A new username without a domain means no domain (it may carry one itself: DOMAIN\user).
  const domain = input.domain !== undefined ? input.domain : input.username !== undefined ? null : existing?.domain ?? null;
  if (osFamily === 'windows') {
    const windows = normaliseWindowsAccount(username, domain);
    if (input.useSudo) throw new ValidationError('useSudo', 'applies to Linux accounts only');
    if (input.privateKey !== undefined) throw new ValidationError('privateKey', 'applies to Linux accounts (or Windows over OpenSSH with a password) only');
    return { osFamily, name, ...windows };
  }
  if (!LINUX_USER.test(username)) throw new ValidationError('username', 'must be a POSIX user name (letters, digits, _ . -; at most 32)');
  if (domain) throw new ValidationError('domain', 'does not apply to Linux accounts');
  return { osFamily, name, username, domain: null };
}

/** The secrets after the request: the stored ones with the given ones applied. */
function secretsAfter(input: AccountInput, osFamily: OsFamily, stored: AccountSecrets): AccountSecrets {
  const secrets: AccountSecrets = { ...stored };
  if (input.password !== undefined) secrets.password = input.password;
  if (input.privateKey !== undefined) {
    if (!PRIVATE_KEY.test(input.privateKey)) throw new ValidationError('privateKey', 'must be a PEM or OpenSSH private key');
    secrets.privateKey = input.privateKey;
    if (input.passphrase === undefined) delete secrets.passphrase;
  }
  if (input.passphrase !== undefined) {
    if (secrets.privateKey === undefined) throw new ValidationError('passphrase', 'applies to a privateKey only');
    secrets.passphrase = input.passphrase;
  }
  if (secrets.password === undefined && secrets.privateKey === undefined) {
    throw new ValidationError('password', osFamily === 'windows' ? 'is required' : 'or privateKey is required');
  }
  if (secrets.password !== undefined && (secrets.password.length === 0 || secrets.password.length > 1024)) throw new ValidationError('password', 'must be 1 to 1024 characters');
  return secrets;
}

/**
 * The account record and secrets a create (`existing` undefined) or an update would store. Throws a
 * ValidationError naming the field at the first problem.
 */
export function validateAccount(input: AccountInput, existing?: AccountWithSecrets): { meta: RunAsAccount; secrets: AccountSecrets } {
  const now = new Date().toISOString();
  const who = identity(input, existing);
  const secrets = secretsAfter(input, who.osFamily, existing?.secrets ?? {});
  const meta: RunAsAccount = {
    id: existing?.id ?? randomUUID(),
    name: who.name,
    osFamily: who.osFamily,
    username: who.username,
    domain: who.domain,
    useSudo: who.osFamily === 'linux' ? (input.useSudo ?? existing?.useSudo ?? false) : false,
    hasPassword: secrets.password !== undefined,
    hasPrivateKey: secrets.privateKey !== undefined,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    // A credentials update lifts a lockout suspension.
    authFailures: 0,
    suspended: false,
    suspendedAt: null,
  };
  return { meta, secrets };
}
