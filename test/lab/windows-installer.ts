// The Windows installer stand-in (guest-contract.md, "Test installers"): a small file named like the
// real one, whose header names what it is and its version. The simulator "runs" a file only if it has
// this header, so what runs on the guest is exactly what the pipeline copied there.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const MAGIC = 'PUSHINSTALLD-TEST-STAND-IN';

export type StandInRole = 'installer' | 'unified-agent' | 'configurator' | 'vss-install' | 'vss-uninstall';

export function standIn(role: StandInRole, version: string, padBytes = 0): Buffer {
  const header = Buffer.from(`MZ\r\n${MAGIC}\r\nrole=${role}\r\nversion=${version}\r\n\r\n`);
  return padBytes > 0 ? Buffer.concat([header, randomBytes(padBytes)]) : header;
}

/** What a stand-in file is, or null if the bytes are not one (a corrupt copy, a random file). */
export function parseStandIn(buf: Buffer): { role: StandInRole; version: string } | null {
  const head = buf.subarray(0, 256).toString('latin1');
  const m = new RegExp(`^MZ\\r\\n${MAGIC}\\r\\nrole=([a-z-]+)\\r\\nversion=([0-9.]+)\\r\\n`).exec(head);
  return m ? { role: m[1] as StandInRole, version: m[2] as string } : null;
}

/** Writes the installer .exe stand-in for an agent version (random padding: versions hash differently). */
export function buildWindowsInstaller(outFile: string, version: string, opts: { padKiB?: number } = {}): string {
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, standIn('installer', version, (opts.padKiB ?? 64) * 1024));
  return outFile;
}
