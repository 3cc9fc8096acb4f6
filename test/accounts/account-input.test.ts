// validateAccount without Redis: what a create or an update stores, and each refusal naming its field
// without echoing a secret.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccountInput, AccountWithSecrets } from '../../src/accounts/account.ts';
import { validateAccount } from '../../src/accounts/account-input.ts';
import { ValidationError } from '../../src/errors/validation-error.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

function existing(over: Partial<AccountWithSecrets> = {}): AccountWithSecrets {
  return {
    id: 'a1', name: 'root', osFamily: 'linux', username: 'root', domain: null, useSudo: true, hasPassword: false, hasPrivateKey: true,
    createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', authFailures: 3, suspended: true, suspendedAt: '2024-01-02T00:00:00.000Z',
    secrets: { privateKey: KEY, passphrase: 'pp' }, ...over,
  };
}

describe('validateAccount', () => {
  it('create: a Linux account with a password', () => {
    const { meta, secrets } = validateAccount({ name: ' ops ', osFamily: 'linux', username: 'deploy', password: 'pw-1' });
    assert.equal(meta.name, 'ops');
    assert.equal(meta.domain, null);
    assert.equal(meta.useSudo, false);
    assert.equal(meta.hasPassword, true);
    assert.equal(meta.hasPrivateKey, false);
    assert.deepEqual(secrets, { password: 'pw-1' });
    assert.match(meta.id, /^[0-9a-f-]{36}$/);
  });

  it('update: keeps the stored secrets and identity, lifts a suspension', () => {
    const { meta, secrets } = validateAccount({ name: 'renamed' }, existing());
    assert.equal(meta.id, 'a1');
    assert.equal(meta.createdAt, '2024-01-01T00:00:00.000Z');
    assert.equal(meta.useSudo, true);
    assert.deepEqual(secrets, { privateKey: KEY, passphrase: 'pp' });
    assert.deepEqual([meta.suspended, meta.authFailures, meta.suspendedAt], [false, 0, null]);
  });

  it('update: a new private key without a passphrase drops the old passphrase', () => {
    assert.deepEqual(validateAccount({ privateKey: KEY }, existing()).secrets, { privateKey: KEY });
  });

  it('update: a new username without a domain clears the domain', () => {
    const win = existing({ osFamily: 'windows', username: 'adm', domain: 'CORP', useSudo: false, secrets: { password: 'pw' } });
    assert.equal(validateAccount({ username: 'other' }, win).meta.domain, '.');
    assert.equal(validateAccount({ name: 'n' }, win).meta.domain, 'CORP');
  });

  const refused: Array<[AccountInput, AccountWithSecrets | undefined, string]> = [
    [{ name: 'x', osFamily: 'solaris' as never, username: 'root', password: 'secret-1' }, undefined, 'osFamily'],
    [{ osFamily: 'windows' }, existing(), 'osFamily'],
    [{ name: '', osFamily: 'linux', username: 'root', password: 'secret-1' }, undefined, 'name'],
    [{ name: 'x'.repeat(129), osFamily: 'linux', username: 'root', password: 'secret-1' }, undefined, 'name'],
    [{ name: 'x', osFamily: 'linux', username: '1root', password: 'secret-1' }, undefined, 'username'],
    [{ name: 'x', osFamily: 'linux', username: 'root', domain: 'CORP', password: 'secret-1' }, undefined, 'domain'],
    [{ name: 'x', osFamily: 'windows', username: 'a/b', password: 'secret-1' }, undefined, 'username'],
    [{ name: 'x', osFamily: 'windows', username: 'CORP\\a', domain: 'CORP', password: 'secret-1' }, undefined, 'domain'],
    [{ name: 'x', osFamily: 'windows', username: 'a', password: 'secret-1', useSudo: true }, undefined, 'useSudo'],
    [{ name: 'x', osFamily: 'windows', username: 'a', password: 'secret-1', privateKey: KEY }, undefined, 'privateKey'],
    [{ name: 'x', osFamily: 'linux', username: 'root', privateKey: 'secret-1' }, undefined, 'privateKey'],
    [{ name: 'x', osFamily: 'linux', username: 'root', password: 'secret-1', passphrase: 'pp' }, undefined, 'passphrase'],
    [{ name: 'x', osFamily: 'linux', username: 'root' }, undefined, 'password'],
    [{ name: 'x', osFamily: 'linux', username: 'root', password: '' }, undefined, 'password'],
    [{ name: 'x', osFamily: 'linux', username: 'root', password: 's'.repeat(1025) }, undefined, 'password'],
  ];
  for (const [input, before, field] of refused) {
    it(`refuses ${JSON.stringify(input).slice(0, 90)}: ${field}`, () => {
      assert.throws(() => validateAccount(input, before), (e: unknown) => e instanceof ValidationError && e.field === field && !e.message.includes('secret-1'));
    });
  }
});
