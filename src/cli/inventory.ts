// Reads an inventory (CSV or JSON) into the machines of a submit request and checks every machine
// against the API's own Machine schema before anything is sent: a bad row is reported with its line
// (CSV) or item number (JSON) and the field, and every bad row is listed.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describeAjvError } from '../errors/ajv-error.ts';
import { machineSchema } from '../api/schemas.ts';
import type { Machine } from '../client/contract.ts';
import { CsvSyntaxError, parseCsv } from './csv.ts';

/** The CSV columns (header names, case-insensitive); machineId, address and osFamily are required. */
export const CSV_COLUMNS = ['machineId', 'address', 'osFamily', 'osName', 'osTag', 'port', 'smbPort', 'windowsTransport', 'installLocation', 'displayName', 'processServerId'] as const;
type Column = (typeof CSV_COLUMNS)[number];
const REQUIRED: readonly Column[] = ['machineId', 'address', 'osFamily'];

export interface InventoryProblem {
  /** "line 4" (CSV) or "item 2" (JSON), or "file" for the file as a whole. */
  where: string;
  field?: string;
  message: string;
}

export class InventoryError extends Error {
  constructor(readonly file: string, readonly problems: InventoryProblem[]) {
    super(`${file}: ${problems.length} problem(s), nothing submitted:\n${problems.map((p) => `  ${p.where}${p.field ? ` ${p.field}` : ''}: ${p.message}`).join('\n')}`);
  }
}

/** Every machine of the file with the account (and process server) given, or an InventoryError listing every bad row. */
export function readInventory(file: string, defaults: { runAsAccountId?: string; processServerId?: string }): Machine[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new InventoryError(file, [{ where: 'file', message: (e as Error).message }]); }
  const rows = /\.json$/i.test(file) ? fromJson(file, text) : fromCsv(file, text);
  const problems: InventoryProblem[] = [];
  const seen = new Map<string, string>();
  const machines = rows.map(({ where, machine, problems: own }) => {
    const m = { ...machine } as Record<string, unknown>;
    if (defaults.runAsAccountId !== undefined && m.runAsAccountId === undefined) m.runAsAccountId = defaults.runAsAccountId;
    if (defaults.processServerId !== undefined && m.processServerId === undefined) m.processServerId = defaults.processServerId;
    problems.push(...own.map((p) => ({ where, ...p })), ...schemaProblems(m).map((p) => ({ where, ...p })));
    const id = typeof m.machineId === 'string' ? m.machineId : undefined;
    if (id !== undefined && seen.has(id)) problems.push({ where, field: 'machineId', message: `${id} is already on ${seen.get(id)}` });
    else if (id !== undefined) seen.set(id, where);
    return m as unknown as Machine;
  });
  if (rows.length === 0) problems.push({ where: 'file', message: 'no machine in the inventory' });
  if (problems.length > 0) throw new InventoryError(file, problems);
  return machines;
}

interface Row { where: string; machine: object; problems: Array<Omit<InventoryProblem, 'where'>> }

function fromJson(file: string, text: string): Row[] {
  let data: unknown;
  try { data = JSON.parse(text); } catch (e) { throw new InventoryError(file, [{ where: 'file', message: `not JSON: ${(e as Error).message}` }]); }
  const list = Array.isArray(data) ? data : (data as { machines?: unknown } | null)?.machines;
  if (!Array.isArray(list)) throw new InventoryError(file, [{ where: 'file', message: 'expected an array of machines (or {"machines": [...]})' }]);
  return list.map((m: unknown, i) => ({
    where: `item ${i + 1}`,
    machine: typeof m === 'object' && m !== null ? m : {},
    problems: typeof m === 'object' && m !== null ? [] : [{ message: 'not an object' }],
  }));
}

function fromCsv(file: string, text: string): Row[] {
  let records;
  try { records = parseCsv(text); } catch (e) {
    if (e instanceof CsvSyntaxError) throw new InventoryError(file, [{ where: `line ${e.line}`, message: e.message.replace(/^line \d+: /, '') }]);
    throw e;
  }
  const [header, ...body] = records;
  if (!header) throw new InventoryError(file, [{ where: 'file', message: `empty: a header row is required (${CSV_COLUMNS.join(',')})` }]);
  const columns = header.fields.map((h) => CSV_COLUMNS.find((c) => c.toLowerCase() === h.trim().toLowerCase()));
  const headerProblems: InventoryProblem[] = header.fields.flatMap((h, i) => (columns[i] ? [] : [{ where: `line ${header.line}`, field: h, message: `unknown column (columns: ${CSV_COLUMNS.join(', ')})` }]));
  for (const r of REQUIRED) if (!columns.includes(r)) headerProblems.push({ where: `line ${header.line}`, field: r, message: 'required column missing' });
  if (headerProblems.length > 0) throw new InventoryError(file, headerProblems);
  return body.map((rec) => csvRow(rec.line, rec.fields, columns as Column[]));
}

function csvRow(line: number, fields: string[], columns: Column[]): Row {
  const problems: Row['problems'] = [];
  if (fields.length !== columns.length) problems.push({ message: `${fields.length} fields, the header has ${columns.length}` });
  const v: Partial<Record<Column, string>> = {};
  columns.forEach((c, i) => { const f = fields[i]?.trim(); if (f) v[c] = f; });
  const machine: Record<string, unknown> = { machineId: v.machineId, address: v.address, os: { family: v.osFamily, name: v.osName, tag: v.osTag } };
  for (const k of ['windowsTransport', 'installLocation', 'displayName', 'processServerId'] as const) machine[k] = v[k];
  for (const k of ['port', 'smbPort'] as const) {
    const value = v[k];
    if (value === undefined) continue;
    if (/^\d{1,5}$/.test(value)) machine[k] = Number(value);
    else problems.push({ field: k, message: `"${value}" is not a port number` });
  }
  return { where: `line ${line}`, machine: JSON.parse(JSON.stringify(machine)) as object, problems };
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(machineSchema);

// The CSV columns name the OS fields osFamily/osName/osTag; the account comes from --account.
const FIELD_NAMES: Record<string, string> = { 'os.family': 'osFamily', 'os.name': 'osName', 'os.tag': 'osTag', runAsAccountId: 'runAsAccountId (--account)' };

function schemaProblems(machine: object): Array<Omit<InventoryProblem, 'where'>> {
  if (validate(machine)) return [];
  return (validate.errors ?? []).map((e) => {
    const { field, problem } = describeAjvError(e);
    return { field: FIELD_NAMES[field] ?? field, message: problem };
  });
}
