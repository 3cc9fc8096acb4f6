// Log lines: LOG_FORMAT=json writes one JSON object a line with no key twice; pretty renders the same
// (redacted) line for a person; the duplicate-key finder the e2e tests use finds what it should.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { redactor } from '../../src/logging/redactor.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { duplicateKeys } from '../lab/json-keys.ts';

describe('logger', () => {
  it('finds duplicate keys at any depth, and none in clean JSON', () => {
    assert.deepEqual(duplicateKeys('{"pid":1,"a":{"b":1,"c":"x\\"pid\\":"},"pid":2}'), ['pid']);
    assert.deepEqual(duplicateKeys('{"a":{"b":1,"b":2},"c":[{"d":1},{"d":2}]}'), ['a.b']);
    assert.deepEqual(duplicateKeys('{"a":"}{","b":[1,{"a":1}],"c":{"a":1}}'), []);
  });

  it('json: one object a line, no key twice (child bindings, fields and pid together)', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => { lines.push(l); } }, 'json');
    logger.child({ jobId: 'j1', machineId: 'vm-1', attempt: 1 }).info({ state: 'Succeeded' }, 'job ended');
    logger.info({ port: 6379, dir: '/x', redisPid: 42 }, 'embedded redis-server started');
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.deepEqual(duplicateKeys(line), [], line);
      assert.equal(JSON.parse(line).pid, process.pid);
    }
  });

  it('pretty: a readable line with level, message and fields, secrets still masked', () => {
    const secret = `Pretty-Secret-${Math.random().toString(36).slice(2)}`;
    redactor.add(secret);
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => { lines.push(l); } }, 'pretty');
    logger.warn({ jobId: 'j1', detail: `x ${secret}` }, 'transient failure, will retry');
    const text = lines.join('');
    assert.match(text, /WARN.*transient failure, will retry/);
    assert.match(text, /jobId: "j1"/);
    assert.ok(!text.startsWith('{'), 'not JSON');
    assert.ok(!text.includes(secret), text);
    assert.ok(!text.includes('\u001b['), 'no colour when the sink is not a terminal');
  });

  it('LOG_FORMAT defaults to pretty on a terminal and json otherwise', () => {
    assert.equal(loadConfig({}, '/nonexistent', true).logFormat, 'pretty');
    assert.equal(loadConfig({}, '/nonexistent', false).logFormat, 'json');
    assert.equal(loadConfig({ LOG_FORMAT: 'json' }, '/nonexistent', true).logFormat, 'json');
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }, '/nonexistent', false).logFormat, 'pretty');
  });
});
