import { watch, type FSWatcher } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256File } from './file-hash.ts';
import { observe, sameSignature, signatureOf, type FileSignature, type Observation } from './file-signature.ts';
import { parseInstallerName, type ParsedInstallerName } from './installer-name.ts';
import { openForWriting } from './open-files.ts';
import { installerMissingError, newerThanCsError, unknownTagError, type RepositoryContext } from './repository-errors.ts';
import { OS_TAGS, osTagInfo, type OsTagInfo, type Platform } from './os-tags.ts';
import { compareVersions, maxVersion, parseVersion } from './versions.ts';

export interface InstallerInfo extends ParsedInstallerName {
  /** Absolute path of the file. */
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface RejectedFile {
  file: string;
  reason: string;
}

export interface OsSupportEntry {
  tag: string;
  platform: Platform;
  osNames: string[];
  manualPlacement: boolean;
  present: boolean;
  /** Highest version present for the tag (whatever CS_VERSION says). */
  latestVersion?: string;
  /** The version select() would push: the highest not newer than CS_VERSION. */
  selectableVersion?: string;
  /** Every version present, highest first. */
  versions: string[];
}

export interface RepositoryLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export interface InstallerRepositoryOptions {
  dir: string;
  processServerId: string;
  /** The configuration server's version: never select an installer newer than it. */
  csVersion?: string;
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
const COPYING = 'still being copied';

interface HashEntry extends FileSignature {
  sha256: string;
}

/**
 * One process server's installer repository: the files of REPOSITORY_DIR, parsed, hashed and watched.
 * Only complete, stable files are offered; everything else is listed in rejected() with the reason.
 */
export class InstallerRepository {
  readonly dir: string;
  readonly processServerId: string;
  readonly csVersion: string | undefined;
  private readonly logger: RepositoryLogger;
  private readonly settleMs: number;
  private readonly pollMs: number;
  private readonly debounceMs: number;
  private readonly useWatch: boolean;

  private accepted = new Map<string, InstallerInfo>();
  private rejectedFiles = new Map<string, string>();
  /** Files that parse but are still being written: name -> parsed name. */
  private copying = new Map<string, ParsedInstallerName>();
  private observed = new Map<string, Observation>();
  private hashes = new Map<string, HashEntry>();
  /** Last accepted SHA-256 per file name still in the folder, to tell "replaced" from "added" in the log. */
  private lastSha = new Map<string, string>();
  private dirReadable: boolean | undefined;

  private running: Promise<void> | null = null;
  private pending: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;
  private counters = { scans: 0, hashesComputed: 0 };

  constructor(opts: InstallerRepositoryOptions) {
    this.dir = resolve(opts.dir);
    this.processServerId = opts.processServerId;
    const cs = opts.csVersion?.trim();
    if (cs) {
      try {
        parseVersion(cs);
      } catch {
        throw new Error(`CS_VERSION "${opts.csVersion}" is not a version (expected numbers separated by dots, such as 9.30)`);
      }
    }
    this.csVersion = cs || undefined;
    this.logger = opts.logger ?? NOOP_LOGGER;
    this.settleMs = opts.settleMs ?? 1000;
    this.pollMs = opts.pollMs ?? 5000;
    this.debounceMs = opts.debounceMs ?? 100;
    this.useWatch = opts.watch ?? true;
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
    this.watcher?.close();
    this.watcher = null;
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
    return [...this.accepted.values()]
      .sort((a, b) => a.osTag.localeCompare(b.osTag) || compareVersions(b.version, a.version) || a.file.localeCompare(b.file))
      .map((i) => ({ ...i }));
  }

  /** Files that are not offered, with the reason (including files still being copied). */
  rejected(): RejectedFile[] {
    return [...this.rejectedFiles].map(([file, reason]) => ({ file, reason })).sort((a, b) => a.file.localeCompare(b.file));
  }

  osSupport(): OsSupportEntry[] {
    return OS_TAGS.map((t) => {
      const versions = this.forTag(t).map((i) => i.version);
      const entry: OsSupportEntry = {
        tag: t.tag, platform: t.platform, osNames: [...t.osNames], manualPlacement: t.manualPlacement,
        present: versions.length > 0, versions,
      };
      const latest = maxVersion(versions);
      if (latest) entry.latestVersion = latest;
      const selectable = this.allowed(this.forTag(t))[0];
      if (selectable) entry.selectableVersion = selectable.version;
      return entry;
    });
  }

  /**
   * The installer to push for an OS tag: the highest version, never newer than CS_VERSION. Throws PushError
   * 99001 (none for the tag), 99018 (only newer than CS_VERSION) or 99002 (unknown tag).
   */
  async select(tag: string): Promise<InstallerInfo> {
    const info = osTagInfo(tag);
    if (!info) throw unknownTagError(tag);
    let choice = this.allowed(this.forTag(info))[0];
    if (choice && !(await this.stillSame(choice))) choice = undefined;
    if (!choice) {
      // The watcher may have missed a change: look again before failing.
      await this.rescan();
      choice = this.allowed(this.forTag(info))[0];
    }
    if (choice) return { ...choice };
    const present = this.forTag(info);
    const ctx: RepositoryContext = { processServerId: this.processServerId, repositoryDir: this.dir };
    if (this.csVersion) ctx.csVersion = this.csVersion;
    if (present.length > 0 && this.csVersion) {
      throw newerThanCsError(info, { ...ctx, csVersion: this.csVersion }, present.map((i) => i.version));
    }
    const copying = [...this.copying].filter(([, p]) => p.osTag === info.tag).map(([file]) => file).sort();
    throw installerMissingError(info, ctx, copying);
  }

  /** Counters for metrics and tests: scans run and SHA-256 computations done (the cache avoids repeats). */
  stats(): { scans: number; hashesComputed: number; watching: boolean } {
    return { ...this.counters, watching: this.watcher !== null };
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

  /** Installers of a tag, highest version first (then newest release date, then name). */
  private forTag(info: OsTagInfo): InstallerInfo[] {
    return [...this.accepted.values()]
      .filter((i) => i.osTag === info.tag)
      .sort((a, b) => compareVersions(b.version, a.version) || b.releaseDate.localeCompare(a.releaseDate) || a.file.localeCompare(b.file));
  }

  private allowed(list: InstallerInfo[]): InstallerInfo[] {
    const cs = this.csVersion;
    return cs ? list.filter((i) => compareVersions(i.version, cs) <= 0) : list;
  }

  private async stillSame(i: InstallerInfo): Promise<boolean> {
    try {
      const st = await stat(i.path);
      const cached = this.hashes.get(i.path);
      return cached !== undefined && sameSignature(cached, signatureOf(st));
    } catch {
      return false;
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

  private scheduleScan(delayMs = this.debounceMs): void {
    if (this.stopped) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.rescan();
    }, delayMs);
    this.debounceTimer.unref();
  }

  private scheduleSettleScan(delayMs: number): void {
    if (this.stopped || !this.started) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.rescan();
    }, Math.max(20, delayMs));
    this.settleTimer.unref();
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
      this.watcher?.close();
      this.watcher = null;
      return undefined;
    }
  }

  private async scan(): Promise<void> {
    this.counters.scans++;
    const names = (await this.listDir()) ?? [];
    const now = Date.now();
    const accepted = new Map<string, InstallerInfo>();
    const rejected = new Map<string, string>();
    const copying = new Map<string, ParsedInstallerName>();
    const observed = new Map<string, Observation>();
    const candidates: Array<{ name: string; parsed: ParsedInstallerName; sig: FileSignature }> = [];
    let nextCheck = Infinity;

    for (const name of names) {
      if (name.startsWith('.') || name.toLowerCase() === 'readme.md') continue;
      const path = join(this.dir, name);
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') rejected.set(name, `cannot be read (${code ?? String(err)})`);
        continue; // ENOENT: removed meanwhile
      }
      if (st.isDirectory()) {
        rejected.set(name, 'is a folder: installers must be placed directly in the repository folder');
        continue;
      }
      if (!st.isFile()) {
        rejected.set(name, 'is not a regular file');
        continue;
      }
      const parsed = parseInstallerName(name);
      if (!parsed.ok) {
        rejected.set(name, parsed.reason);
        continue;
      }
      const sig = signatureOf(st);
      const { observation, quietSince } = observe(this.observed.get(name), sig, now);
      observed.set(name, observation);
      if (now - quietSince < this.settleMs) {
        rejected.set(name, `${COPYING} (changed less than ${this.settleMs} ms ago)`);
        copying.set(name, parsed.value);
        nextCheck = Math.min(nextCheck, quietSince + this.settleMs - now);
        continue;
      }
      const cached = this.hashes.get(path);
      if (cached && sameSignature(cached, sig)) {
        accepted.set(name, this.info(parsed.value, path, sig, cached.sha256));
        continue;
      }
      candidates.push({ name, parsed: parsed.value, sig });
    }

    if (candidates.length > 0) {
      const realDir = await realpath(this.dir).catch(() => this.dir);
      const open = await openForWriting(candidates.map((c) => join(realDir, c.name)));
      for (const c of candidates) {
        const path = join(this.dir, c.name);
        if (open.has(join(realDir, c.name))) {
          rejected.set(c.name, `${COPYING} (open for writing)`);
          copying.set(c.name, c.parsed);
          nextCheck = Math.min(nextCheck, this.settleMs);
          continue;
        }
        const sha256 = await this.hash(path, c.sig);
        if (typeof sha256 === 'object') {
          if (sha256.error !== 'ENOENT') rejected.set(c.name, `cannot be read (${sha256.error})`);
          continue;
        }
        if (sha256 === undefined) {
          rejected.set(c.name, `${COPYING} (changed while being hashed)`);
          copying.set(c.name, c.parsed);
          observed.set(c.name, { ...c.sig, since: Date.now() }); // its new signature starts a fresh settle period
          nextCheck = Math.min(nextCheck, this.settleMs);
          continue;
        }
        accepted.set(c.name, this.info(c.parsed, path, c.sig, sha256));
      }
    }

    this.publish(names, accepted, rejected, copying);
    this.observed = observed;
    const acceptedPaths = new Set([...accepted.values()].map((i) => i.path));
    for (const path of [...this.hashes.keys()]) if (!acceptedPaths.has(path)) this.hashes.delete(path);
    if (Number.isFinite(nextCheck)) this.scheduleSettleScan(nextCheck + 10);
    if (this.dirReadable) this.ensureWatcher();
  }

  /** SHA-256 of a file whose signature is `sig`; undefined if the file changed while being read. */
  private async hash(path: string, sig: FileSignature): Promise<string | undefined | { error: string }> {
    try {
      this.counters.hashesComputed++;
      const sha256 = await sha256File(path);
      const after = signatureOf(await stat(path));
      if (!sameSignature(after, sig)) return undefined;
      this.hashes.set(path, { ...sig, sha256 });
      return sha256;
    } catch (err) {
      return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
  }

  private info(parsed: ParsedInstallerName, path: string, sig: FileSignature, sha256: string): InstallerInfo {
    return { ...parsed, path, size: sig.size, mtimeMs: sig.mtimeMs, sha256 };
  }

  /** Swap in the new state and log what changed. */
  private publish(names: string[], accepted: Map<string, InstallerInfo>, rejected: Map<string, string>, copying: Map<string, ParsedInstallerName>): void {
    const base = { repositoryDir: this.dir, processServerId: this.processServerId };
    const present = new Set(names);
    for (const [file, i] of accepted) {
      const known = this.lastSha.get(file);
      const fields = { ...base, file, osTag: i.osTag, version: i.version, size: i.size, sha256: i.sha256 };
      if (known === undefined) this.logger.info(fields, 'installer added to the repository');
      else if (known !== i.sha256) this.logger.info({ ...fields, previousSha256: known }, 'installer replaced in the repository');
      this.lastSha.set(file, i.sha256);
    }
    for (const [file, old] of this.accepted) {
      if (accepted.has(file)) continue;
      if (copying.has(file)) {
        this.logger.info({ ...base, file, osTag: old.osTag, version: old.version }, 'installer is being rewritten; withdrawn until the copy is complete');
      } else {
        this.logger.info({ ...base, file, osTag: old.osTag, version: old.version }, 'installer removed from the repository');
      }
    }
    for (const file of [...this.lastSha.keys()]) if (!present.has(file)) this.lastSha.delete(file);
    for (const [file, reason] of rejected) {
      if (this.rejectedFiles.get(file) === reason) continue;
      if (reason.startsWith(COPYING)) {
        if (!this.copying.has(file) && !this.accepted.has(file)) this.logger.info({ ...base, file }, 'installer is still being copied; it is offered once complete');
      } else {
        this.logger.warn({ ...base, file, reason }, 'file in the installer repository rejected');
      }
    }
    this.accepted = accepted;
    this.rejectedFiles = rejected;
    this.copying = copying;
  }
}
