import type { OsFamily } from '../domain/os.ts';

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

/** An account with its decrypted secrets: held in memory for one connection or one update only. */
export type AccountWithSecrets = RunAsAccount & { secrets: AccountSecrets };

/** A create (every required field) or update (only what changes) request. */
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
