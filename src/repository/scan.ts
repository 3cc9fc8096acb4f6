// One look at the repository folder: each file becomes offered (complete, stable, hashed), settling
// (still being copied) or rejected (with the reason). Partial copies are never offered: a file must be
// unchanged for the settle time, not open for writing, and unchanged while it is hashed.
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { observe, signatureOf, type FileSignature, type Observation } from './file-signature.ts';
import type { HashCache } from './hash-cache.ts';
import { parseInstallerName, type ParsedInstallerName } from './installer-name.ts';
import { openForWriting } from './open-files.ts';
import type { FileStatus, InstallerInfo } from './snapshot.ts';

export interface ScanInput {
  dir: string;
  names: readonly string[];
  /** What the previous scan observed, by file name (to tell how long a file has been quiet). */
  previous: ReadonlyMap<string, Observation>;
  hashes: HashCache;
  /** A file must be unchanged this long before it is offered. */
  settleMs: number;
}

export interface ScanResult {
  files: ReadonlyMap<string, FileStatus>;
  /** What this scan observed, for the next one. */
  observed: ReadonlyMap<string, Observation>;
  /** When a settling file should be looked at again, in ms from now (Infinity: no file is settling). */
  nextCheckMs: number;
}

interface Candidate {
  name: string;
  path: string;
  parsed: ParsedInstallerName;
  sig: FileSignature;
}

/** The results of one scan as it goes. */
class ScanPass implements ScanResult {
  readonly files = new Map<string, FileStatus>();
  readonly observed = new Map<string, Observation>();
  nextCheckMs = Infinity;

  reject(name: string, reason: string): void {
    this.files.set(name, { status: 'rejected', reason });
  }

  offer(c: Candidate, sha256: string): void {
    const installer: InstallerInfo = { ...c.parsed, path: c.path, size: c.sig.size, mtimeMs: c.sig.mtimeMs, sha256 };
    this.files.set(c.name, { status: 'offered', installer });
  }

  /** `since`: when the file was last seen changing; `recheckMs`: when to look again. */
  settling(c: Candidate, since: number, reason: string, recheckMs: number): void {
    this.files.set(c.name, { status: 'settling', installer: c.parsed, since, reason });
    this.nextCheckMs = Math.min(this.nextCheckMs, recheckMs);
  }
}

/** Dotfiles (temporary names of copy tools) and the folder's README are not installers. */
function ignored(name: string): boolean {
  return name.startsWith('.') || name.toLowerCase() === 'readme.md';
}

/** A file that may be an installer, its rejection reason, or null when it vanished meanwhile. */
async function inspect(dir: string, name: string): Promise<Candidate | { rejected: string } | null> {
  const path = join(dir, name);
  let st: Stats;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? null : { rejected: `cannot be read (${code ?? String(err)})` };
  }
  if (st.isDirectory()) return { rejected: 'is a folder: installers must be placed directly in the repository folder' };
  if (!st.isFile()) return { rejected: 'is not a regular file' };
  const parsed = parseInstallerName(name);
  if (!parsed.ok) return { rejected: parsed.reason };
  return { name, path, parsed: parsed.value, sig: signatureOf(st) };
}

/** Records the file's signature; false (and the file settling) if it changed less than settleMs ago. */
function quietLongEnough(c: Candidate, input: ScanInput, pass: ScanPass, now: number): boolean {
  const { observation, quietSince } = observe(input.previous.get(c.name), c.sig, now);
  pass.observed.set(c.name, observation);
  if (now - quietSince >= input.settleMs) return true;
  pass.settling(c, quietSince, `changed less than ${input.settleMs} ms ago`, quietSince + input.settleMs - now);
  return false;
}

/** Hashes the quiet files not hashed yet, unless some process still has them open for writing. */
async function hashCandidates(candidates: Candidate[], input: ScanInput, pass: ScanPass): Promise<void> {
  // /proc shows open files by their real path.
  const realDir = await realpath(input.dir).catch(() => input.dir);
  const open = await openForWriting(candidates.map((c) => join(realDir, c.name)));
  for (const c of candidates) {
    if (open.has(join(realDir, c.name))) {
      pass.settling(c, Date.now(), 'open for writing', input.settleMs);
      continue;
    }
    const result = await input.hashes.hash(c.path, c.sig);
    if ('error' in result) {
      if (result.error !== 'ENOENT') pass.reject(c.name, `cannot be read (${result.error})`);
    } else if ('changed' in result) {
      const now = Date.now();
      pass.settling(c, now, 'changed while being hashed', input.settleMs);
      pass.observed.set(c.name, { ...c.sig, since: now }); // its new signature starts a fresh settle period
    } else {
      pass.offer(c, result.sha256);
    }
  }
}

/** Classifies every file of `names` in the folder. */
export async function scanFolder(input: ScanInput, now = Date.now()): Promise<ScanResult> {
  const pass = new ScanPass();
  const candidates: Candidate[] = [];
  for (const name of input.names) {
    if (ignored(name)) continue;
    const found = await inspect(input.dir, name);
    if (found === null) continue;
    if ('rejected' in found) {
      pass.reject(name, found.rejected);
      continue;
    }
    if (!quietLongEnough(found, input, pass, now)) continue;
    const sha256 = input.hashes.lookup(found.path, found.sig);
    if (sha256 !== undefined) pass.offer(found, sha256);
    else candidates.push(found);
  }
  if (candidates.length > 0) await hashCandidates(candidates, input, pass);
  return pass;
}
