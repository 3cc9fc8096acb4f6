// The inventory reader: RFC 4180 fields, line numbers of records, and the checks that list every bad
// row (line and field) before anything is sent.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CsvSyntaxError, parseCsv } from '../../src/cli/csv.ts';
import { InventoryError, readInventory } from '../../src/cli/inventory.ts';

describe('parseCsv', () => {
  it('reads plain and quoted fields, doubled quotes, commas and line breaks in quotes, CRLF, and the line each record starts on', () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""",\n\n"multi\nline",2,3\nlast,"",z';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', ''] },
      { line: 4, fields: ['multi\nline', '2', '3'] },
      { line: 6, fields: ['last', '', 'z'] },
    ]);
  });

  it('skips a BOM and a final line break; reports an unclosed quote and stray quotes with their line', () => {
    assert.deepEqual(parseCsv('\uFEFFh\nv\n'), [{ line: 1, fields: ['h'] }, { line: 2, fields: ['v'] }]);
    assert.throws(() => parseCsv('h\n"open\n'), (e: unknown) => e instanceof CsvSyntaxError && e.line === 3 && /not closed/.test(e.message));
    assert.throws(() => parseCsv('h\nab"c\n'), (e: unknown) => e instanceof CsvSyntaxError && e.line === 2);
    assert.throws(() => parseCsv('"a"b\n'), /text after a closing quote/);
  });
});

describe('readInventory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-inv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => { const p = path.join(dir, name); writeFileSync(p, text); return p; };

  it('turns CSV rows into machines with the account and process server', () => {
    const csv = file('ok.csv', 'machineId,address,osFamily,osName,port,windowsTransport,installLocation\nvm-1,10.0.0.1,linux,,2222,,\nvm-2,10.0.0.2,windows,"Microsoft Windows Server 2016 (64-bit)",,ssh,"C:\\Program Files (x86)\\ASR"\n');
    assert.deepEqual(readInventory(csv, { runAsAccountId: 'acc-1', processServerId: 'ps1' }), [
      { machineId: 'vm-1', address: '10.0.0.1', os: { family: 'linux' }, port: 2222, runAsAccountId: 'acc-1', processServerId: 'ps1' },
      { machineId: 'vm-2', address: '10.0.0.2', os: { family: 'windows', name: 'Microsoft Windows Server 2016 (64-bit)' }, windowsTransport: 'ssh', installLocation: 'C:\\Program Files (x86)\\ASR', runAsAccountId: 'acc-1', processServerId: 'ps1' },
    ]);
  });

  it('lists every bad row with its line and field', () => {
    const csv = file('bad.csv', 'machineId,address,osFamily,port,windowsTransport\nvm-1,10.0.0.1,linux,22,\nvm-2,10.0.0.2,solaris,22,\nvm-3,bad address!,linux,x,\nvm-1,10.0.0.4,windows,,telnet\n');
    const e = (() => { try { readInventory(csv, { runAsAccountId: 'acc-1' }); } catch (err) { return err as InventoryError; } return null; })();
    assert.ok(e instanceof InventoryError);
    assert.deepEqual(e.problems.map((p) => `${p.where} ${p.field}`), [
      'line 3 osFamily', 'line 4 port', 'line 4 address', 'line 5 windowsTransport', 'line 5 machineId',
    ]);
    assert.match(e.message, /line 3 osFamily: must be one of "windows", "linux"/);
  });

  it('refuses an unknown or missing column, a missing account, and a JSON file that is not a list', () => {
    assert.throws(() => readInventory(file('h.csv', 'machineId,addr,osFamily\n'), {}), /line 1 addr: unknown column[\s\S]*line 1 address: required column missing/);
    assert.throws(() => readInventory(file('a.csv', 'machineId,address,osFamily\nvm,10.0.0.1,linux\n'), {}), /line 2 runAsAccountId \(--account\): is required/);
    assert.throws(() => readInventory(file('o.json', '{"x":1}'), {}), /expected an array of machines/);
    assert.throws(() => readInventory(file('e.csv', ''), {}), /a header row is required/);
  });

  it('takes JSON machines as the API does, reporting bad items by number', () => {
    const json = file('m.json', JSON.stringify([{ machineId: 'vm-1', address: '10.0.0.1', os: { family: 'linux' } }, { machineId: 'vm-2', address: '10.0.0.2', os: { family: 'linux' }, colour: 'red' }]));
    assert.throws(() => readInventory(json, { runAsAccountId: 'acc-1' }), /item 2 colour: is not allowed/);
    const good = file('g.json', JSON.stringify([{ machineId: 'vm-1', address: '10.0.0.1', os: { family: 'linux' }, runAsAccountId: 'own' }]));
    assert.equal(readInventory(good, { runAsAccountId: 'acc-1' })[0]?.runAsAccountId, 'own');
  });
});
