/** The installer repository module: OS catalogue, OS name mapping and detection, installer files. */
export { compareVersions, compareReleases, parseVersion, maxVersion, isVersion, releaseOf, sameRelease } from './versions.ts';
export { OS_TAGS, osTagInfo, canonicalTag, supportedOsList, MANUAL_PLACEMENT_FROM_VERSION } from './os-tags.ts';
export type { OsTagInfo, Platform } from './os-tags.ts';
export { resolveOsName, detectLinuxOs, LINUX_RELEASE_FILES } from './os-mapping.ts';
export type { OsResolution } from './os-mapping.ts';
export { windowsMinAgentVersion, WINDOWS_VERSIONS } from './windows.ts';
export { parseInstallerName, installerFilePattern, parseReleaseDate, INSTALLER_NAME_FORMAT } from './installer-name.ts';
export type { ParsedInstallerName } from './installer-name.ts';
export { InstallerRepository } from './repository.ts';
export type { InstallerRepositoryOptions, RepositoryLogger } from './repository.ts';
export { selectInstaller, osSupport, sortedInstallers } from './select-installer.ts';
export type { OsSupportEntry } from './select-installer.ts';
export type { InstallerInfo, RejectedFile, FileStatus, RepositorySnapshot } from './snapshot.ts';
export { installerMissingError, newerThanCsError, unknownTagError } from './repository-errors.ts';
export { sha256File } from './file-hash.ts';
