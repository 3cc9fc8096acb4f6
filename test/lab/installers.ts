// Builds the test installers (guest-contract.md, "Test installers") and lays out repositories.
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { must } from './exec.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A Linux installer .tar.gz of the given version; `padMiB` adds incompressible bytes (slow copies). */
export async function buildLinuxInstaller(outFile: string, version: string, opts: { padMiB?: number } = {}): Promise<string> {
  const work = mkdtempSync(path.join(tmpdir(), 'pi-installer-'));
  try {
    cpSync(path.join(HERE, 'installer-linux'), work, { recursive: true });
    chmodSync(path.join(work, 'install'), 0o755);
    writeFileSync(path.join(work, 'version'), `${version}\n`);
    if (opts.padMiB) {
      const fd = openSync(path.join(work, 'payload', 'blob.bin'), 'w');
      for (let i = 0; i < opts.padMiB; i++) writeSync(fd, randomBytes(1024 * 1024));
      closeSync(fd);
    }
    mkdirSync(path.dirname(outFile), { recursive: true });
    await must('tar', ['-czf', outFile, '-C', work, '.']);
    return outFile;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function installerFileName(version: string, tag: string, date = '22Oct2019', ext = tag === 'Windows' ? 'exe' : 'tar.gz'): string {
  return `Microsoft-ASR_UA_${version}_${tag}_GA_${date}_release.${ext}`;
}

/** A repository folder holding a copy of `source` under each tag's installer name. */
export function makeRepository(dir: string, source: string, entries: Array<{ tag: string; version: string; date?: string }>): string {
  mkdirSync(dir, { recursive: true });
  for (const e of entries) copyFileSync(source, path.join(dir, installerFileName(e.version, e.tag, e.date)));
  return dir;
}
