import type { ParsedInstallerName } from './installer-name.ts';

/** An installer the repository offers: a complete, stable file with its SHA-256. */
export interface InstallerInfo extends ParsedInstallerName {
  /** Absolute path of the file. */
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * What the repository makes of one file in its folder. `settling`: an installer that is still being
 * copied (changed recently, open for writing, or changed while being hashed); it is offered once quiet.
 */
export type FileStatus =
  | { status: 'offered'; installer: InstallerInfo }
  | { status: 'settling'; installer: ParsedInstallerName; since: number; reason: string }
  | { status: 'rejected'; reason: string };

/** One scan's view of a repository folder: every file that is not ignored, by name. */
export interface RepositorySnapshot {
  processServerId: string;
  /** Absolute path of the folder. */
  dir: string;
  files: ReadonlyMap<string, FileStatus>;
}

export interface RejectedFile {
  file: string;
  reason: string;
}

export function emptySnapshot(dir: string, processServerId: string): RepositorySnapshot {
  return { dir, processServerId, files: new Map() };
}

/** Why a file is not offered, as operators read it (undefined for an offered file). */
export function notOfferedReason(s: FileStatus): string | undefined {
  if (s.status === 'settling') return `still being copied (${s.reason})`;
  return s.status === 'rejected' ? s.reason : undefined;
}

export function offeredInstallers(snapshot: RepositorySnapshot): InstallerInfo[] {
  const out: InstallerInfo[] = [];
  for (const s of snapshot.files.values()) if (s.status === 'offered') out.push(s.installer);
  return out;
}

/** Files that are not offered, with the reason (files still being copied included), by name. */
export function rejectedFiles(snapshot: RepositorySnapshot): RejectedFile[] {
  const out: RejectedFile[] = [];
  for (const [file, s] of snapshot.files) {
    const reason = notOfferedReason(s);
    if (reason !== undefined) out.push({ file, reason });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Names of the files of an OS tag that are still being copied, sorted. */
export function settlingFiles(snapshot: RepositorySnapshot, osTag: string): string[] {
  const out: string[] = [];
  for (const [file, s] of snapshot.files) if (s.status === 'settling' && s.installer.osTag === osTag) out.push(file);
  return out.sort();
}
