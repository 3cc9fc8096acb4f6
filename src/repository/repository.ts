import { watch, type FSWatcher } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { RepositoryChangeLog, type RepositoryLogger } from './change-log.ts';
import type { Observation } from './file-signature.ts';
import { HashCache } from './hash-cache.ts';
import { unknownTagError } from './repository-errors.ts';
import { osTagInfo } from './os-tags.ts';
import { scanFolder } from './scan.ts';
import { bestInstaller, isEligible, osSupport, selectInstaller, sortedInstallers, type OsSupportEntry, type VersionCeiling } from './select-installer.ts';
import { emptySnapshot, offeredInstallers, rejectedFiles, type InstallerInfo, type RejectedFile, type RepositorySnapshot } from './snapshot.ts';
import { parseVersion } from './versions.ts';

export type { RepositoryLogger } from './change-log.ts';

export interface InstallerRepositoryOptions {
  dir: string;
  processServerId: string;
  /** The configuration server's version: never select an installer newer than it (unset: select nothing, 99016). */
  csVersion?: string;
  /** This scale-out process server's own version (optional): never select an installer newer than it either. */
  processServerVersion?: string;
  logger?: RepositoryLogger;
  /** A file must be unchanged (and not open for writing) this long before it is offered. Default 1000. */
  settleMs?: number;
  /** Periodic rescan, since fs.watch can miss events. Default 5000. */
  pollMs?: number;
  /** Quiet time after a watch event before rescanning. Default 100. */
  debounceMs?: number;
  /** Use fs.watch (default true). Off: polling only, e.g. for network shares where watch sees no remote changes. */
  watch?: boolean;
}

const NOOP_LOGGER: RepositoryLogger = { info() {}, warn() {} };

function checkedVersion(name: string, version: string | undefined): string | undefined {
  const v = version?.trim();
  if (!v) return undefined;
  try {
    parseVersion(v);
  } catch {
    throw new Error(`${name} "${version}" is not a version (expected numbers separated by dots, such as 9.30)`);
  }
  return v;
}

/**
 * One process server's installer repository: the files of REPOSITORY_DIR, parsed, hashed and watched
 * (fs.watch, a poll as a fallback, and a timer for files still settling). Only complete, stable files
 * are offered; everything else is listed in rejected() with the reason. Which installer a job gets is
 * selectInstaller's decision over the latest snapshot.
 */
export class InstallerRepository {
  readonly dir: string;
  readonly processServerId: string;
  readonly csVersion: string | undefined;
  readonly processServerVersion: string | undefined;
  private readonly logger: RepositoryLogger;
  private readonly settleMs: number;
  private readonly pollMs: number;
  private readonly debounceMs: number;
  private readonly useWatch: boolean;
  private readonly changes: RepositoryChangeLog;
  private readonly hashes = new HashCache();

  private snapshot: RepositorySnapshot;
  private observed: ReadonlyMap<string, Observation> = new Map();
  private dirReadable: boolean | undefined;
  private scans = 0;

  private running: Promise<void> | null = null;
  private pending: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;

  constructor(opts: InstallerRepositoryOptions) {
    this.dir = resolve(opts.dir);
    this.processServerId = opts.processServerId;
    this.csVersion = checkedVersion('CS_VERSION', opts.csVersion);
    this.processServerVersion = checkedVersion('PROCESS_SERVER_VERSION', opts.processServerVersion);
    this.logger = opts.logger ?? NOOP_LOGGER;
    this.changes = new RepositoryChangeLog(this.logger);
    this.settleMs = opts.settleMs ?? 1000;
    this.pollMs = opts.pollMs ?? 5000;
    this.debounceMs = opts.debounceMs ?? 100;
    this.useWatch = opts.watch ?? true;
    this.snapshot = emptySnapshot(this.dir, this.processServerId);
  }

  /** First scan (hashes computed), then watch the folder and poll as a fallback. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    await this.rescan();
    if (this.dirReadable) this.ensureWatcher();
    this.pollTimer = setInterval(() => void this.rescan(), this.pollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.started = false;
    this.closeWatcher();
    for (const t of [this.pollTimer, this.debounceTimer, this.settleTimer]) if (t) clearTimeout(t);
    this.pollTimer = this.debounceTimer = this.settleTimer = null;
    await (this.pending ?? this.running);
  }

  /** Rescan now. Concurrent calls share one scan; a call during a scan gets one more scan after it. */
  rescan(): Promise<void> {
    if (this.running) {
      this.pending ??= this.running.then(() => {
        this.pending = null;
        return this.rescan();
      });
      return this.pending;
    }
    this.running = this.scan()
      .catch((err: unknown) => this.logger.warn({ err, repositoryDir: this.dir }, 'installer repository scan failed'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Complete, stable installers with their SHA-256, by OS tag then highest version first. */
  installers(): InstallerInfo[] {
    return sortedInstallers(this.snapshot);
  }

  /** Files that are not offered, with the reason (including files still being copied). */
  rejected(): RejectedFile[] {
    return rejectedFiles(this.snapshot);
  }

  /** What selection may not exceed. */
  get ceiling(): VersionCeiling {
    return { csVersion: this.csVersion, processServerVersion: this.processServerVersion };
  }

  /** Whether an installer of this version may be pushed here (never with CS_VERSION unset). */
  eligible(version: string): boolean {
    return isEligible(version, this.ceiling);
  }

  osSupport(): OsSupportEntry[] {
    return osSupport(this.snapshot, this.ceiling);
  }

  /**
   * The installer to push for an OS tag (see selectInstaller). Throws PushError 99001 (none for the tag),
   * 99016 (CS_VERSION unset), 99018 (only newer than the ceiling) or 99002 (unknown tag).
   */
  async select(tag: string): Promise<InstallerInfo> {
    const info = osTagInfo(tag);
    if (!info) throw unknownTagError(tag);
    const choice = bestInstaller(this.snapshot, info, this.ceiling);
    if (choice && (await this.hashes.unchanged(choice.path))) return choice;
    // The watcher may have missed a change: look again before deciding.
    await this.rescan();
    return selectInstaller(this.snapshot, tag, this.ceiling);
  }

  /** Counters for metrics and tests: scans run and SHA-256 computations done (the cache avoids repeats). */
  stats(): { scans: number; hashesComputed: number; watching: boolean } {
    return { scans: this.scans, hashesComputed: this.hashes.computed, watching: this.watcher !== null };
  }

  /** The folder exists, is a folder and can be read (for /readyz). */
  async readable(): Promise<boolean> {
    try {
      await access(this.dir, constants.R_OK | constants.X_OK);
      return (await stat(this.dir)).isDirectory();
    } catch {
      return false;
    }
  }

  // ---- internals ----

  private async scan(): Promise<void> {
    this.scans++;
    const names = (await this.listDir()) ?? [];
    const result = await scanFolder({ dir: this.dir, names, previous: this.observed, hashes: this.hashes, settleMs: this.settleMs });
    const next: RepositorySnapshot = { dir: this.dir, processServerId: this.processServerId, files: result.files };
    this.changes.record(this.snapshot, next, names);
    this.snapshot = next;
    this.observed = result.observed;
    this.hashes.retain(new Set(offeredInstallers(next).map((i) => i.path)));
    if (Number.isFinite(result.nextCheckMs)) this.scheduleSettleScan(result.nextCheckMs + 10);
    if (this.dirReadable) this.ensureWatcher();
  }

  private async listDir(): Promise<string[] | undefined> {
    try {
      const names = await readdir(this.dir);
      if (this.dirReadable === false) this.logger.info({ repositoryDir: this.dir }, 'installer repository readable again');
      this.dirReadable = true;
      return names;
    } catch (err) {
      if (this.dirReadable !== false) this.logger.warn({ err, repositoryDir: this.dir }, 'installer repository cannot be read');
      this.dirReadable = false;
      this.closeWatcher();
      return undefined;
    }
  }

  private ensureWatcher(): void {
    if (!this.useWatch || this.watcher || this.stopped || !this.started) return;
    try {
      const w = watch(this.dir, { persistent: false }, () => this.scheduleScan());
      w.on('error', (err) => {
        this.logger.warn({ err, repositoryDir: this.dir }, 'watching the installer repository failed; polling only');
        w.close();
        if (this.watcher === w) this.watcher = null;
      });
      this.watcher = w;
    } catch (err) {
      this.logger.warn({ err, repositoryDir: this.dir }, 'cannot watch the installer repository; polling only');
    }
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private scheduleScan(): void {
    if (this.stopped) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.rescan();
    }, this.debounceMs);
    this.debounceTimer.unref();
  }

  /** Looks again when the first settling file should have settled. */
  private scheduleSettleScan(delayMs: number): void {
    if (this.stopped || !this.started) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.rescan();
    }, Math.max(20, delayMs));
    this.settleTimer.unref();
  }
}
