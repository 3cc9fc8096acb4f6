import { notOfferedReason, type FileStatus, type RepositorySnapshot } from './snapshot.ts';

export interface RepositoryLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

/**
 * Logs what changed between two scans, once per change: installers added, replaced (new content under
 * the same name), withdrawn while rewritten, removed; files still being copied; files rejected.
 */
export class RepositoryChangeLog {
  /** Last offered SHA-256 per file name still in the folder, to tell "replaced" from "added". */
  private readonly lastSha = new Map<string, string>();

  constructor(private readonly logger: RepositoryLogger) {}

  /** `names`: every name the folder listed (ignored files included). */
  record(before: RepositorySnapshot, after: RepositorySnapshot, names: readonly string[]): void {
    const base = { repositoryDir: after.dir, processServerId: after.processServerId };
    this.offered(base, after);
    this.withdrawn(base, before, after);
    const present = new Set(names);
    for (const file of [...this.lastSha.keys()]) if (!present.has(file)) this.lastSha.delete(file);
    this.notOffered(base, before, after);
  }

  private offered(base: object, after: RepositorySnapshot): void {
    for (const [file, s] of after.files) {
      if (s.status !== 'offered') continue;
      const i = s.installer;
      const known = this.lastSha.get(file);
      const fields = { ...base, file, osTag: i.osTag, version: i.version, size: i.size, sha256: i.sha256 };
      if (known === undefined) this.logger.info(fields, 'installer added to the repository');
      else if (known !== i.sha256) this.logger.info({ ...fields, previousSha256: known }, 'installer replaced in the repository');
      this.lastSha.set(file, i.sha256);
    }
  }

  private withdrawn(base: object, before: RepositorySnapshot, after: RepositorySnapshot): void {
    for (const [file, old] of before.files) {
      if (old.status !== 'offered' || after.files.get(file)?.status === 'offered') continue;
      const fields = { ...base, file, osTag: old.installer.osTag, version: old.installer.version };
      if (after.files.get(file)?.status === 'settling') {
        this.logger.info(fields, 'installer is being rewritten; withdrawn until the copy is complete');
      } else {
        this.logger.info(fields, 'installer removed from the repository');
      }
    }
  }

  private notOffered(base: object, before: RepositorySnapshot, after: RepositorySnapshot): void {
    for (const [file, s] of after.files) {
      const reason = notOfferedReason(s);
      const old: FileStatus | undefined = before.files.get(file);
      if (reason === undefined || (old && notOfferedReason(old) === reason)) continue;
      if (s.status === 'settling') {
        if (old === undefined || old.status === 'rejected') this.logger.info({ ...base, file }, 'installer is still being copied; it is offered once complete');
      } else {
        this.logger.warn({ ...base, file, reason }, 'file in the installer repository rejected');
      }
    }
  }
}
