// The vault's record cipher: AES-256-GCM, a fresh nonce per record, the account id bound as associated
// data, the key id in the record. Tampering with any part, or moving a record to another account, fails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyIdOf, open, seal, VaultDecryptError, VaultUnknownKeyError } from '../../src/accounts/cipher.ts';
import { vaultKeyFromBytes } from '../../src/accounts/vault-key.ts';

const key = vaultKeyFromBytes(randomBytes(32));
const other = vaultKeyFromBytes(randomBytes(32));
const plaintext = Buffer.from(JSON.stringify({ password: 'Pa55-word "quoted" & more' }));

function flip(sealed: string, index: number): string {
  const buf = Buffer.from(sealed, 'base64');
  buf[index] = (buf[index] as number) ^ 0x01;
  return buf.toString('base64');
}

describe('vault cipher', () => {
  it('round-trips, with the key id in the record and no plaintext in it', () => {
    const sealed = seal(key, 'acct-1', plaintext);
    assert.equal(keyIdOf(sealed), key.id);
    assert.deepEqual(open([other, key], 'acct-1', sealed), plaintext);
    assert.ok(!Buffer.from(sealed, 'base64').includes(plaintext.subarray(0, 8)), 'ciphertext does not contain the plaintext');
    assert.ok(!sealed.includes(plaintext.toString('base64').slice(0, 12)));
  });

  it('uses a fresh nonce per record: the same secret seals differently each time', () => {
    const a = Buffer.from(seal(key, 'acct-1', plaintext), 'base64');
    const b = Buffer.from(seal(key, 'acct-1', plaintext), 'base64');
    assert.notDeepEqual(a.subarray(9, 21), b.subarray(9, 21), 'nonces differ');
    assert.notDeepEqual(a.subarray(37), b.subarray(37), 'ciphertexts differ');
  });

  it('rejects a tampered ciphertext, tag or nonce', () => {
    const sealed = seal(key, 'acct-1', plaintext);
    const length = Buffer.from(sealed, 'base64').length;
    for (const [what, index] of [['nonce', 9], ['tag', 21], ['ciphertext', 37], ['last ciphertext byte', length - 1]] as const) {
      assert.throws(() => open([key], 'acct-1', flip(sealed, index)), (e: unknown) => {
        assert.ok(e instanceof VaultDecryptError, what);
        assert.match((e as Error).message, /failed authentication \(tampered or wrong key\)/);
        return true;
      });
    }
  });

  it('rejects a truncated record, an unknown format version and a record under a key it does not hold', () => {
    const sealed = seal(key, 'acct-1', plaintext);
    assert.throws(() => open([key], 'acct-1', Buffer.from(sealed, 'base64').subarray(0, 30).toString('base64')), /unknown secret format/);
    assert.throws(() => open([key], 'acct-1', flip(sealed, 0)), /unknown secret format/);
    assert.throws(() => open([other], 'acct-1', sealed), (e: unknown) => e instanceof VaultUnknownKeyError && /does not hold/.test((e as Error).message));
    // A forged key id pointing at another key does not help either.
    const forged = Buffer.from(sealed, 'base64');
    Buffer.from(other.id, 'hex').copy(forged, 1);
    assert.throws(() => open([other], 'acct-1', forged.toString('base64')), /failed authentication/);
  });

  it('rejects a record moved onto another account (the account id is associated data)', () => {
    const sealed = seal(key, 'acct-1', plaintext);
    assert.throws(() => open([key], 'acct-2', sealed), /account acct-2: its secret failed authentication/);
  });
});
