import type { Stats } from 'node:fs';

/**
 * What identifies one version of a file's content without reading it: size, mtime, ctime and inode. A
 * replaced file (new content under the same name) changes at least one of them.
 */
export interface FileSignature {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export function signatureOf(st: Stats): FileSignature {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

export function sameSignature(a: FileSignature, b: FileSignature): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** A signature and when this daemon first saw the file with it (-Infinity: it was there when first seen). */
export interface Observation extends FileSignature {
  since: number;
}

/**
 * Records a new stat of a file and says since when it has been quiet (unchanged). A file seen for the
 * first time is quiet since its mtime; one whose signature changed since the last look is quiet since
 * now. An mtime in the future (clock skew on a share) is ignored in favour of observation.
 */
export function observe(prev: Observation | undefined, sig: FileSignature, now: number): { observation: Observation; quietSince: number } {
  let since: number;
  if (prev && sameSignature(prev, sig)) since = prev.since;
  else if (prev) since = now;
  else since = sig.mtimeMs > now ? now : -Infinity;
  const mtime = sig.mtimeMs <= now ? sig.mtimeMs : -Infinity;
  return { observation: { ...sig, since }, quietSince: Math.max(since, mtime) };
}
