// The single redaction layer: a registered secret is masked raw and in the encodings it leaks in
// (base64 with and without padding, base64url, URL and form encoding, JSON escaping), private keys
// line by line too; the logger passes every line through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger.ts';
import { MASK, Redactor, redactor } from '../../src/logging/redactor.ts';

describe('redactor', () => {
  const secret = 'Pa55 w/"quoted"+&=?';

  it('masks the raw value and its base64, base64url, URL, form and JSON forms', () => {
    const r = new Redactor();
    r.add(secret);
    const b64 = Buffer.from(secret).toString('base64');
    const json = JSON.stringify(secret).slice(1, -1);
    const forms = [
      secret, b64, b64.replace(/=+$/, ''), Buffer.from(secret).toString('base64url'), encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%20/g, '+'), json, JSON.stringify(json).slice(1, -1),
    ];
    for (const form of forms) {
      const out = r.redact(`before ${form} after`);
      assert.equal(out, `before ${MASK} after`, `form ${form}`);
    }
    assert.equal(r.redact('nothing secret here'), 'nothing secret here');
  });

  it('masks every line of a private key, so a key echoed line by line is caught', () => {
    const r = new Redactor();
    const key = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABD',
      'QyNTUxOQAAACDd3xhq0zV0kR6gQ1tY5m3hQ3TqvS0x2rX4mLq6n1l8VwAAAJgzBZzg', '-----END OPENSSH PRIVATE KEY-----'].join('\n');
    r.add(key);
    const out = r.redact(`line: QyNTUxOQAAACDd3xhq0zV0kR6gQ1tY5m3hQ3TqvS0x2rX4mLq6n1l8VwAAAJgzBZzg\n${key}`);
    assert.ok(!out.includes('QyNTUxOQAAACDd3xhq'), out);
    assert.ok(!out.includes('b3BlbnNzaC1rZXktdjEAAAAACm'), out);
  });

  it('redacts values inside structures (error details)', () => {
    const r = new Redactor();
    r.add(secret);
    assert.deepEqual(r.redactValue({ a: [`x ${secret} y`], b: { c: secret } }), { a: [`x ${MASK} y`], b: { c: MASK } });
  });

  it('ignores values too short to mask without destroying every log line', () => {
    const r = new Redactor();
    r.add('ab');
    r.add('');
    r.add(undefined);
    assert.equal(r.redact('a b ab abc'), 'a b ab abc');
  });

  it('the logger writes no registered secret, whatever field or message carries it', () => {
    const unique = `Logger-Secret-${Math.random().toString(36).slice(2)}`;
    redactor.add(unique);
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => { lines.push(l); } });
    logger.info({ detail: `x${unique}y`, nested: { encoded: Buffer.from(unique).toString('base64') } }, `message with ${encodeURIComponent(unique)}`);
    logger.info({ password: 'field-named-password' }, 'pino redacts secret field names too');
    const text = lines.join('');
    assert.equal(lines.length, 2);
    assert.ok(!text.includes(unique) && !text.includes(Buffer.from(unique).toString('base64')), text);
    assert.ok(!text.includes('field-named-password'), text);
  });

  it('never throws, whatever the secret holds: lone surrogates, NUL, huge values; and still masks them', () => {
    const secrets = ['pw\ud800x-high', 'pw\udc00x-low', 'xy\udbff', '\udfffx-', 'nul\u0000inside', 'Big-'.repeat(40_000), `${'k'.repeat(70_000)}\ud800`];
    const r = new Redactor();
    for (const s of secrets) assert.doesNotThrow(() => r.add(s), JSON.stringify(s.slice(0, 20)));
    for (const s of secrets) {
      const utf8 = Buffer.from(s, 'utf8');
      const forms = [s, utf8.toString('utf8'), utf8.toString('base64'), utf8.toString('base64url'), encodeURIComponent(utf8.toString('utf8')), JSON.stringify(s).slice(1, -1)];
      for (const form of forms) assert.equal(r.redact(`<${form}>`), `<${MASK}>`, `${JSON.stringify(s.slice(0, 12))} as ${JSON.stringify(form.slice(0, 16))}`);
    }
    assert.doesNotThrow(() => r.redact('\ud800'.repeat(100_000)));
    assert.deepEqual(r.redactValue({ [`key ${secrets[0]}`]: [secrets[4]], n: 1 }), { [`key ${MASK}`]: [MASK], n: 1 });
  });

  it('a secret that looks like JSON punctuation leaves structured values intact', () => {
    const r = new Redactor();
    r.add('":"');
    r.add('","');
    assert.deepEqual(r.redactValue({ a: 'x', b: 'y ":" z' }), { a: 'x', b: `y ${MASK} z` });
  });
  it('a held secret is masked until its last holder releases it; one added for good stays', () => {
    const r = new Redactor();
    const first = r.hold('job-secret-1', undefined);
    const second = r.hold('job-secret-1');
    r.add('for-good-9');
    const forGood = r.size;
    assert.equal(r.redact('job-secret-1 for-good-9'), `${MASK} ${MASK}`);
    first();
    first(); // a second release of the same hold changes nothing
    assert.equal(r.redact('job-secret-1'), MASK, 'the other holder still keeps it');
    second();
    assert.equal(r.redact('job-secret-1 for-good-9'), `job-secret-1 ${MASK}`);
    assert.ok(r.size < forGood, 'its forms are gone');
    const again = r.hold('for-good-9');
    again();
    assert.equal(r.redact('for-good-9'), MASK, 'releasing a hold never drops what add keeps');
  });
});
