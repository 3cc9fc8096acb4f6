// Which installer to push: pure functions over a repository snapshot (no I/O), so the rules (highest
// version, never newer than the configuration server, the errors an operator acts on) are testable alone.
import { csVersionMissingError, installerMissingError, newerThanCsError, unknownTagError, type RepositoryContext } from './repository-errors.ts';
import { OS_TAGS, osTagInfo, type OsExtension, type OsTagInfo, type Platform } from './os-tags.ts';
import { offeredInstallers, settlingFiles, type InstallerInfo, type RepositorySnapshot } from './snapshot.ts';
import { compareReleases, compareVersions, maxVersion } from './versions.ts';

/**
 * The versions an installer may not exceed: the configuration server's (CS_VERSION; unset: nothing is
 * eligible, since the documentation has the configuration server updated before any agent) and, when set,
 * this scale-out process server's own (PROCESS_SERVER_VERSION).
 */
export interface VersionCeiling {
  csVersion: string | undefined;
  processServerVersion?: string | undefined;
}

/** An installer of this version may be pushed under the ceiling. */
export function isEligible(version: string, ceiling: VersionCeiling): boolean {
  // CS_VERSION / PROCESS_SERVER_VERSION may carry a build (9.30.5407.1): an installer is newer only when its release is.
  if (!ceiling.csVersion || compareReleases(version, ceiling.csVersion) > 0) return false;
  return !ceiling.processServerVersion || compareReleases(version, ceiling.processServerVersion) <= 0;
}

export interface OsSupportEntry {
  tag: string;
  platform: Platform;
  osNames: string[];
  manualPlacement: boolean;
  /** Operating systems kept beyond the documentation, with the agent version each needs. */
  extensions?: OsExtension[];
  present: boolean;
  /** Highest version present for the tag (whatever CS_VERSION says). */
  latestVersion?: string;
  /** The version select() would push: the highest not newer than CS_VERSION (nor PROCESS_SERVER_VERSION). */
  selectableVersion?: string;
  /** Every version present, highest first. */
  versions: string[];
}

/** Every offered installer, by OS tag then highest version first (copies: callers may keep them). */
export function sortedInstallers(snapshot: RepositorySnapshot): InstallerInfo[] {
  return offeredInstallers(snapshot)
    .sort((a, b) => a.osTag.localeCompare(b.osTag) || compareVersions(b.version, a.version) || a.file.localeCompare(b.file))
    .map((i) => ({ ...i }));
}

/** Installers of a tag, highest version first (then newest release date, then name). */
function installersFor(snapshot: RepositorySnapshot, info: OsTagInfo): InstallerInfo[] {
  return offeredInstallers(snapshot)
    .filter((i) => i.osTag === info.tag)
    .sort((a, b) => compareVersions(b.version, a.version) || b.releaseDate.localeCompare(a.releaseDate) || a.file.localeCompare(b.file));
}

/** The installer selectInstaller would pick for a known tag, or undefined when it would throw. */
export function bestInstaller(snapshot: RepositorySnapshot, info: OsTagInfo, ceiling: VersionCeiling): InstallerInfo | undefined {
  const best = installersFor(snapshot, info).find((i) => isEligible(i.version, ceiling));
  return best ? { ...best } : undefined;
}

/**
 * The installer to push for an OS tag: the highest version, never newer than the ceiling. Throws
 * PushError 99002 (unknown tag), 99016 (CS_VERSION unset), 99018 (only installers newer than the ceiling)
 * or 99001 (none for the tag; naming the files of that tag still being copied, if any).
 */
export function selectInstaller(snapshot: RepositorySnapshot, osTag: string, ceiling: VersionCeiling): InstallerInfo {
  const info = osTagInfo(osTag);
  if (!info) throw unknownTagError(osTag);
  const { csVersion, processServerVersion } = ceiling;
  if (!csVersion) throw csVersionMissingError(info);
  const choice = bestInstaller(snapshot, info, ceiling);
  if (choice) return choice;
  const ctx: RepositoryContext = { processServerId: snapshot.processServerId, repositoryDir: snapshot.dir, csVersion };
  if (processServerVersion) ctx.processServerVersion = processServerVersion;
  const present = installersFor(snapshot, info);
  if (present.length > 0) throw newerThanCsError(info, { ...ctx, csVersion }, present.map((i) => i.version));
  throw installerMissingError(info, ctx, settlingFiles(snapshot, info.tag));
}

/** Every OS tag of the table with the versions present and the one selectInstaller would push. */
export function osSupport(snapshot: RepositorySnapshot, ceiling: VersionCeiling): OsSupportEntry[] {
  return OS_TAGS.map((t) => {
    const versions = installersFor(snapshot, t).map((i) => i.version);
    const entry: OsSupportEntry = {
      tag: t.tag, platform: t.platform, osNames: [...t.osNames], manualPlacement: t.manualPlacement,
      present: versions.length > 0, versions,
    };
    if (t.extensions) entry.extensions = t.extensions.map((e) => ({ ...e }));
    const latest = maxVersion(versions);
    if (latest) entry.latestVersion = latest;
    const selectable = bestInstaller(snapshot, t, ceiling);
    if (selectable) entry.selectableVersion = selectable.version;
    return entry;
  });
}
