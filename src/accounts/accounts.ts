import type { Redis } from 'ioredis';
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors/validation-error.ts';
import { redactor } from '../logging/redactor.ts';
import { keyIdOf, open, seal, VaultDecryptError, VaultUnknownKeyError } from './cipher.ts';
import { KeyAgreementError, VaultKeyNotHeld } from './key-agreement.ts';
import type { AccountInput, AccountSecrets, AccountWithSecrets, RunAsAccount } from './account.ts';
import { validateAccount } from './account-input.ts';
import type { VaultKey } from './vault-key.ts';

// The types callers of the store use (the pipeline, the API) are declared in account.ts.
export type { AccountInput, AccountSecrets, AccountWithSecrets, RunAsAccount } from './account.ts';

const K = {
  account: (id: string) => `pi:account:${id}`,
  all: 'pi:accounts',
};

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
  /** Why this process may not seal a record now (it lacks the cluster's vault key), or null. */
  sealingRefused?: () => string | null;
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

  private async write(meta: RunAsAccount, secrets: AccountSecrets): Promise<void> {
    // A record sealed under a key the cluster does not use would stop every other process.
    const refused = this.options.sealingRefused?.();
    if (refused) throw new KeyAgreementError(refused);
    // Sealed under the key file's current key as of now, not as of the last periodic reload, so a
    // record written during a key rotation never lands under a key that is about to be dropped.
    const key = (this.options.reloadKeys?.() ?? this.keys())[0];
    if (!key) throw new Error('no vault key loaded');
    const sealed = seal(key, meta.id, Buffer.from(JSON.stringify(secrets), 'utf8'));
    await this.redis.multi().hset(K.account(meta.id), 'meta', JSON.stringify(meta), 'secret', sealed).sadd(K.all, meta.id).exec();
  }

  async create(input: AccountInput): Promise<RunAsAccount> {
    const { meta, secrets } = validateAccount(input);
    registerSecrets(secrets);
    await this.write(meta, secrets);
    return meta;
  }

  async update(id: string, input: AccountInput): Promise<RunAsAccount> {
    let existing: AccountWithSecrets;
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
    const { meta, secrets } = validateAccount(input, existing);
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

  private async getWithSecrets(id: string): Promise<AccountWithSecrets> {
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
   * before anyone can log them, until `scope` ends (a job's attempt), else for the life of the process.
   */
  async forConnection(id: string, scope?: SecretScope): Promise<AccountWithSecrets> {
    const [meta, sealed] = await this.redis.hmget(K.account(id), 'meta', 'secret');
    if (!meta || !sealed) throw new PushError(Codes.AccountMissing, { runAsAccountId: id });
    const account = publicView(meta);
    if (account.suspended) throw suspendedError(account);
    let plain: Buffer;
    try {
      plain = this.decrypt(id, sealed);
    } catch (e) {
      if (!(e instanceof VaultDecryptError)) throw e;
      const undecryptable = new PushError(Codes.VaultUndecryptable, { runAsAccountId: id, cause: e.message }, {
        message: `The stored secret of run-as account "${account.name}" cannot be decrypted (tampered with, or sealed under a key VAULT_KEY_FILE no longer holds): update the account's credentials.`,
      });
      // A key this process lacks: the worker tells a mis-keyed process (hand the job back) from tampering.
      throw e instanceof VaultUnknownKeyError ? new VaultKeyNotHeld(keyIdOf(sealed), undecryptable) : undecryptable;
    }
    const secrets = JSON.parse(plain.toString('utf8')) as AccountSecrets;
    if (scope) scope.onEnd(redactor.hold(secrets.password, secrets.privateKey, secrets.passphrase));
    else registerSecrets(secrets);
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

  // ---- the sealed secrets as stored, for a key rotation (rotate-key.ts) ----

  /** Ids of every account. */
  async ids(): Promise<string[]> {
    return this.redis.smembers(K.all);
  }

  /** The key ids the stored secrets are sealed under (the vault key agreement checks this process holds them). */
  async sealedKeyIds(): Promise<Set<string>> {
    const ids = await this.ids();
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(K.account(id), 'secret');
    const rows = (await pipe.exec()) ?? [];
    return new Set(rows.map(([, v]) => v).filter((v): v is string => typeof v === 'string').map(keyIdOf));
  }

  /** An account's sealed secret as stored (null when there is none). */
  async sealedSecret(id: string): Promise<string | null> {
    return this.redis.hget(K.account(id), 'secret');
  }

  /** Replaces a sealed secret only if it is still `expected` (an update racing with us keeps its value). */
  async replaceSealedSecret(id: string, expected: string, next: string): Promise<boolean> {
    const swapped = await this.redis.eval(
      `if redis.call('HGET', KEYS[1], 'secret') == ARGV[1] then redis.call('HSET', KEYS[1], 'secret', ARGV[2]) return 1 end return 0`,
      1, K.account(id), expected, next);
    return swapped === 1;
  }
}

/** Where decrypted secrets are used (a job's attempt): told how to forget them once it has ended. */
export interface SecretScope {
  onEnd(release: () => void): void;
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
