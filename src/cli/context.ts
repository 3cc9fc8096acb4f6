// What every command shares: the exit codes, the API client from the global options, and output
// (JSON for --json, aligned tables otherwise).
import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.ts';

/** The CLI's exit codes (README "CLI", `pushinstalld --help`). */
export const EXIT = { ok: 0, failed: 1, usage: 2, warning: 3, interrupted: 130 } as const;

/** A mistake in how the CLI was called (exit 2). */
export class UsageError extends Error {}

/** Ends the CLI with that code once the output is written (e.g. a batch that failed). */
export class ExitCode extends Error {
  constructor(readonly code: number) { super(`exit ${code}`); }
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The API client of the command's global options (--url/--token), else PUSHINSTALLD_URL/PUSHINSTALLD_TOKEN. */
export function clientOf(cmd: Command): ApiClient {
  return new ApiClient({ baseUrl: baseUrlOf(cmd), token: tokenOf(cmd) });
}

export function tokenOf(cmd: Command): string {
  const token = cmd.optsWithGlobals<{ token?: string }>().token ?? process.env.PUSHINSTALLD_TOKEN;
  if (!token) throw new UsageError(`set PUSHINSTALLD_TOKEN or pass --token (and PUSHINSTALLD_URL or --url, default ${DEFAULT_URL})`);
  return token;
}

export function baseUrlOf(cmd: Command): string {
  return cmd.optsWithGlobals<{ url?: string }>().url ?? process.env.PUSHINSTALLD_URL ?? DEFAULT_URL;
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Rows as aligned columns under a header; an empty list says so. */
export function table(headers: string[], rows: Array<Array<string | number | boolean | null | undefined>>): string {
  if (rows.length === 0) return '(none)\n';
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** A read command's result: JSON with --json, else the readable form. */
export function show(cmd: Command, json: unknown, readable: () => string): void {
  if (cmd.optsWithGlobals<{ json?: boolean }>().json) printJson(json);
  else out(readable());
}

/** Adds the usage examples shown at the end of the command's --help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}
