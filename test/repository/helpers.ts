import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempRepo(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pushinstalld-repo-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function installerName(version: string, tag: string, date = '22Oct2019', release = 'release'): string {
  return `Microsoft-ASR_UA_${version}_${tag}_GA_${date}_${release}.${tag.toLowerCase() === 'windows' ? 'exe' : 'tar.gz'}`;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes a complete file and returns its SHA-256. */
export async function put(dir: string, name: string, content: string | Buffer = `content of ${name}`): Promise<string> {
  await writeFile(join(dir, name), content);
  return sha256(content);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `cond` holds; fails after `timeoutMs` (generous: the condition usually holds within ms). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

export interface LogLine { level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> }

export function memoryLogger(): { lines: LogLine[]; info(o: object, msg?: string): void; warn(o: object, msg?: string): void } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (o, msg) => lines.push({ level: 'info', msg: msg ?? '', fields: o as Record<string, unknown> }),
    warn: (o, msg) => lines.push({ level: 'warn', msg: msg ?? '', fields: o as Record<string, unknown> }),
  };
}
