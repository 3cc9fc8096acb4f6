import { randomUUID } from 'node:crypto';
import type { OsFamily } from '../domain/os.ts';
import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/validation-error.ts';
import { redactor } from '../logging/redactor.ts';
import { keyIdOf, open, seal, VaultDecryptError, VaultUnknownKeyError } from './cipher.ts';
import type { VaultKey } from './vault-key.ts';

/** What anyone may see of a run-as account: never a secret. */
export interface RunAsAccount {
  id: string;
  name: string;
  osFamily: OsFamily;
  username: string;
  domain: string | null;
  useSudo: boolean;
  hasPassword: boolean;
  hasPrivateKey: boolean;
  createdAt: string;
  updatedAt: string;
  /** Consecutive authentication failures across machines (frozen once the account is suspended). */
  authFailures: number;
  suspended: boolean;
  suspendedAt: string | null;
}

export interface AccountSecrets {
  password?: string;
  privateKey?: string;
  passphrase?: string;
}

export interface AccountInput {
  name?: string;
  osFamily?: OsFamily;
  username?: string;
  domain?: string | null;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  useSudo?: boolean;
}

const K = {
  account: (id: string) => `pi:account:${id}`,
  all: 'pi:accounts',
};

const LINUX_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const WINDOWS_USER = /^[^"/\\[\]:;|=,+*?<>@\s](?:[^"/\\[\]:;|=,+*?<>@]{0,102}[^"/\\[\]:;|=,+*?<>@\s])?$/;
const WINDOWS_DOMAIN = /^(\.|[A-Za-z0-9][A-Za-z0-9.-]{0,253})$/;

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

const PUBLIC_FIELDS = [
  'id', 'name', 'osFamily', 'username', 'domain', 'useSudo', 'hasPassword', 'hasPrivateKey', 'createdAt', 'updatedAt',
  'authFailures', 'suspended', 'suspendedAt',
] as const satisfies ReadonlyArray<keyof RunAsAccount>;

/** Only the public fields of a stored record, whatever else the record may hold. */
function publicView(raw: string): RunAsAccount {
  const stored = JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of PUBLIC_FIELDS) out[f] = stored[f] ?? null;
  out.authFailures = Number(stored.authFailures ?? 0);
  out.suspended = stored.suspended === true;
  out.useSudo = stored.useSudo === true;
  return out as unknown as RunAsAccount;
}

export interface AccountStoreOptions {
  /** Consecutive authentication failures that suspend an account (ACCOUNT_LOCKOUT_THRESHOLD). */
  lockoutThreshold: number;
  /** Queued or running jobs that use the account (delete is refused while there are any). */
  inUse: (accountId: string) => Promise<string[]>;
  /** Re-reads the key file now (see VaultKeyring): before sealing, and for a record under a key not loaded yet. */
  reloadKeys?: () => VaultKey[];
}

/**
 * Run-as accounts: public fields in clear (`meta`), secrets sealed with AES-256-GCM under the vault key
 * (`secret`). Only ciphertext reaches Redis; secrets are decrypted for one connection (`forConnection`)
 * and for an update, and registered with the redactor whenever they are in memory.
 */
export class AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: () => VaultKey[],
    private readonly options: AccountStoreOptions,
  ) {}

  private validate(input: AccountInput, existing?: RunAsAccount & { secrets: AccountSecrets }): { meta: RunAsAccount; secrets: AccountSecrets } {
    const now = new Date().toISOString();
    const osFamily = input.osFamily ?? existing?.osFamily;
    if (osFamily !== 'linux' && osFamily !== 'windows') throw new ValidationError('osFamily', 'must be "windows" or "linux"');
    if (existing && input.osFamily && input.osFamily !== existing.osFamily) throw new ValidationError('osFamily', 'cannot be changed; create another account');
    const name = (input.name ?? existing?.name ?? '').trim();
    if (name === '' || name.length > 128) throw new ValidationError('name', 'must be 1 to 128 characters');
    let username = input.username ?? existing?.username ?? '';
    let domain: string | null = input.domain !== undefined ? input.domain : input.username !== undefined ? null : existing?.domain ?? null;
    if (osFamily === 'linux') {
      if (!LINUX_USER.test(username)) throw new ValidationError('username', 'must be a POSIX user name (letters, digits, _ . -; at most 32)');
      if (domain) throw new ValidationError('domain', 'does not apply to Linux accounts');
      domain = null;
    } else {
      ({ username, domain } = normaliseWindowsAccount(username, domain));
      if (input.useSudo) throw new ValidationError('useSudo', 'applies to Linux accounts only');
      if (input.privateKey !== undefined) throw new ValidationError('privateKey', 'applies to Linux accounts (or Windows over OpenSSH with a password) only');
    }
    const secrets: AccountSecrets = { ...(existing?.secrets ?? {}) };
    if (input.password !== undefined) secrets.password = input.password;
    if (input.privateKey !== undefined) {
      if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(input.privateKey)) throw new ValidationError('privateKey', 'must be a PEM or OpenSSH private key');
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
    const meta: RunAsAccount = {
      id: existing?.id ?? randomUUID(),
      name,
      osFamily,
      username,
      domain,
      useSudo: osFamily === 'linux' ? (input.useSudo ?? existing?.useSudo ?? false) : false,
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

  private async write(meta: RunAsAccount, secrets: AccountSecrets): Promise<void> {
    // Sealed under the key file's current key as of now, not as of the last periodic reload, so a
    // record written during a key rotation never lands under a key that is about to be dropped.
    const key = (this.options.reloadKeys?.() ?? this.keys())[0];
    if (!key) throw new Error('no vault key loaded');
    const sealed = seal(key, meta.id, Buffer.from(JSON.stringify(secrets), 'utf8'));
    await this.redis.multi().hset(K.account(meta.id), 'meta', JSON.stringify(meta), 'secret', sealed).sadd(K.all, meta.id).exec();
  }

  async create(input: AccountInput): Promise<RunAsAccount> {
    const { meta, secrets } = this.validate(input);
    registerSecrets(secrets);
    await this.write(meta, secrets);
    return meta;
  }

  async update(id: string, input: AccountInput): Promise<RunAsAccount> {
    let existing: RunAsAccount & { secrets: AccountSecrets };
    try {
      existing = await this.getWithSecrets(id);
    } catch (e) {
      if (!(e instanceof VaultDecryptError)) throw e;
      // A secret that cannot be decrypted any more (tampered, or its key is gone) can still be replaced.
      if (input.password === undefined && input.privateKey === undefined) {
        throw new ValidationError('password', `the stored secret of this account cannot be decrypted (${e.message}); give the password or privateKey again`);
      }
      existing = { ...(await this.get(id)), secrets: {} };
    }
    const { meta, secrets } = this.validate(input, existing);
    registerSecrets(secrets);
    await this.write(meta, secrets);
    return meta;
  }

  async get(id: string): Promise<RunAsAccount> {
    const meta = await this.redis.hget(K.account(id), 'meta');
    if (!meta) throw new NotFoundError('run-as account', id);
    return publicView(meta);
  }

  async find(id: string): Promise<RunAsAccount | null> {
    try { return await this.get(id); } catch (e) { if (e instanceof NotFoundError) return null; throw e; }
  }

  async list(): Promise<RunAsAccount[]> {
    const ids = await this.redis.smembers(K.all);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(K.account(id), 'meta');
    const rows = (await pipe.exec()) ?? [];
    return rows.map(([, v]) => (v ? publicView(v as string) : null)).filter((a): a is RunAsAccount => a !== null)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    const jobs = await this.options.inUse(id);
    if (jobs.length > 0) throw new ConflictError(`run-as account ${id} is used by ${jobs.length} queued or running job(s)`, { jobIds: jobs.slice(0, 20) });
    await this.redis.multi().del(K.account(id)).srem(K.all, id).exec();
  }

  private async getWithSecrets(id: string): Promise<RunAsAccount & { secrets: AccountSecrets }> {
    const [meta, sealed] = await this.redis.hmget(K.account(id), 'meta', 'secret');
    if (!meta || !sealed) throw new NotFoundError('run-as account', id);
    const secrets = JSON.parse(this.decrypt(id, sealed).toString('utf8')) as AccountSecrets;
    registerSecrets(secrets);
    return { ...publicView(meta), secrets };
  }

  /** Decrypts a record; a record under a key not loaded yet (a rotation just began) re-reads the key file once. */
  private decrypt(id: string, sealed: string): Buffer {
    try {
      return open(this.keys(), id, sealed);
    } catch (e) {
      if (!(e instanceof VaultUnknownKeyError) || !this.options.reloadKeys) throw e;
      return open(this.options.reloadKeys(), id, sealed);
    }
  }

  /**
   * The account and its decrypted secrets, for one connection. Refuses a missing account (99017) and a
   * suspended one (99006) before decrypting anything; the secrets are registered with the redactor
   * before anyone can log them.
   */
  async forConnection(id: string): Promise<RunAsAccount & { secrets: AccountSecrets }> {
    const [meta, sealed] = await this.redis.hmget(K.account(id), 'meta', 'secret');
    if (!meta || !sealed) throw new PushError(Codes.AccountMissing, { runAsAccountId: id });
    const account = publicView(meta);
    if (account.suspended) throw suspendedError(account);
    let plain: Buffer;
    try {
      plain = this.decrypt(id, sealed);
    } catch (e) {
      if (!(e instanceof VaultDecryptError)) throw e;
      throw new PushError(Codes.VaultUndecryptable, { runAsAccountId: id, cause: e.message }, {
        message: `The stored secret of run-as account "${account.name}" cannot be decrypted (tampered with, or sealed under a key VAULT_KEY_FILE no longer holds): update the account's credentials.`,
      });
    }
    const secrets = JSON.parse(plain.toString('utf8')) as AccountSecrets;
    registerSecrets(secrets);
    return { ...account, secrets };
  }

  /**
   * Counts an authentication failure (atomically, across every worker); returns true when this failure
   * suspended the account. The count stops at the suspension, so the error names the failures that
   * caused it.
   */
  async recordAuthFailure(id: string): Promise<boolean> {
    const script = `
      local m = redis.call('HGET', KEYS[1], 'meta')
      if not m then return 0 end
      local a = cjson.decode(m)
      if a.suspended == true then return 0 end
      a.authFailures = (tonumber(a.authFailures) or 0) + 1
      local suspendedNow = 0
      if a.authFailures >= tonumber(ARGV[1]) then
        a.suspended = true
        a.suspendedAt = ARGV[2]
        suspendedNow = 1
      end
      redis.call('HSET', KEYS[1], 'meta', cjson.encode(a))
      return suspendedNow`;
    const res = await this.redis.eval(script, 1, K.account(id), String(this.options.lockoutThreshold), new Date().toISOString());
    return res === 1;
  }

  /** A successful logon resets the consecutive-failure count. */
  async recordAuthSuccess(id: string): Promise<void> {
    const script = `
      local m = redis.call('HGET', KEYS[1], 'meta')
      if not m then return 0 end
      local a = cjson.decode(m)
      if a.suspended == true or (tonumber(a.authFailures) or 0) == 0 then return 0 end
      a.authFailures = 0
      redis.call('HSET', KEYS[1], 'meta', cjson.encode(a))
      return 1`;
    await this.redis.eval(script, 1, K.account(id));
  }

  /** Re-encrypts every record not yet under the current (first) key. Returns how many records were rewritten. */
  async reencryptAll(): Promise<number> {
    const keys = this.keys();
    const current = keys[0];
    if (!current) throw new Error('no vault key loaded');
    let count = 0;
    for (const id of await this.redis.smembers(K.all)) {
      const sealed = await this.redis.hget(K.account(id), 'secret');
      if (!sealed || keyIdOf(sealed) === current.id) continue;
      const plain = open(keys, id, sealed);
      const resealed = seal(current, id, plain);
      // Only replace what we read: an update racing with us keeps its own (already current-key) value.
      const swapped = await this.redis.eval(
        `if redis.call('HGET', KEYS[1], 'secret') == ARGV[1] then redis.call('HSET', KEYS[1], 'secret', ARGV[2]) return 1 end return 0`,
        1, K.account(id), sealed, resealed);
      if (swapped === 1) count++;
    }
    return count;
  }

  /** Ids of the accounts whose secret is sealed under another key than `keyId`. */
  async recordsNotUnder(keyId: string): Promise<string[]> {
    const stale: string[] = [];
    for (const id of await this.redis.smembers(K.all)) {
      const sealed = await this.redis.hget(K.account(id), 'secret');
      if (sealed && keyIdOf(sealed) !== keyId) stale.push(id);
    }
    return stale;
  }
}

/** 99006, worded as the operator needs it: what happened and what lifts it. */
export function suspendedError(account: RunAsAccount): PushError {
  return new PushError(Codes.AccountSuspended, { runAsAccountId: account.id, suspendedAt: account.suspendedAt, failedLogons: account.authFailures }, {
    message: `Run-as account "${account.name}" suspended after ${account.authFailures} failed logons: update its credentials.`,
  });
}

function registerSecrets(secrets: AccountSecrets): void {
  redactor.add(secrets.password);
  redactor.add(secrets.privateKey);
  redactor.add(secrets.passphrase);
}
