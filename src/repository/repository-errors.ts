import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { installerFilePattern } from './installer-name.ts';
import { OS_TAGS, type OsTagInfo } from './os-tags.ts';
import { compareVersions } from './versions.ts';

/** The errors InstallerRepository.select throws, with the text an administrator acts on. */

export interface RepositoryContext {
  processServerId: string;
  /** Absolute path of the repository folder. */
  repositoryDir: string;
  csVersion?: string;
  /** A scale-out process server's own version (PROCESS_SERVER_VERSION), when set. */
  processServerVersion?: string;
}

/** The version an installer may not exceed: the lower of CS_VERSION and PROCESS_SERVER_VERSION. */
function ceilingOf(ctx: RepositoryContext): string | undefined {
  const { csVersion: cs, processServerVersion: ps } = ctx;
  return cs && ps && compareVersions(ps, cs) < 0 ? ps : cs;
}

function downloadHint(info: OsTagInfo, ctx: RepositoryContext): string {
  const ceiling = ceilingOf(ctx);
  const version = ceiling ? ` of version ${ceiling} or older (the ${ceiling === ctx.csVersion ? 'configuration' : 'process'} server's version)` : '';
  if (info.manualPlacement) {
    return `Download the Mobility Service installer${version} for ${info.osNames.join(', ')} from Microsoft: from agent ${info.notShippedFrom ?? '9.36'} it is not shipped with the configuration server. Place it in the repository of the configuration server and of every scale-out process server.`;
  }
  return `Copy the Mobility Service installer${version} for ${info.osNames.join(', ')} from the configuration server's repository (or download it from Microsoft) into ${ctx.repositoryDir} on process server ${ctx.processServerId}.`;
}

/** 99001: no installer for the tag (optionally: one is still being copied). */
export function installerMissingError(info: OsTagInfo, ctx: RepositoryContext, stillCopying: string[] = []): PushError {
  const pattern = installerFilePattern(info.tag);
  const ps = ctx.processServerId;
  let message = `No installer for ${info.tag} in the repository of process server ${ps}: download ${pattern} and place it in the repository of process server ${ps} (${ctx.repositoryDir}).`;
  const ceiling = ceilingOf(ctx);
  if (ceiling) message += ` Use version ${ceiling} or older (the ${ceiling === ctx.csVersion ? 'configuration' : 'process'} server's version).`;
  if (info.manualPlacement) {
    message += ` The ${info.tag} installer (${info.osNames.join(', ')}) is not shipped with the configuration server from agent ${info.notShippedFrom ?? '9.36'}: it must be downloaded from Microsoft and placed in the repository of the configuration server and of every scale-out process server.`;
  }
  if (stillCopying.length > 0) {
    message += ` ${stillCopying.join(', ')} ${stillCopying.length === 1 ? 'is' : 'are'} still being copied into the repository; restart the job when the copy is complete.`;
  }
  const details: Record<string, unknown> = {
    osTag: info.tag,
    osNames: [...info.osNames],
    filePattern: pattern,
    processServerId: ps,
    repositoryDir: ctx.repositoryDir,
    manualPlacement: info.manualPlacement,
    download: downloadHint(info, ctx),
  };
  if (ctx.csVersion) details.csVersion = ctx.csVersion;
  if (ctx.processServerVersion) details.processServerVersion = ctx.processServerVersion;
  if (stillCopying.length > 0) details.stillCopying = stillCopying;
  return new PushError(Codes.InstallerMissing, details, stillCopying.length > 0 ? { message, retryable: true } : { message });
}

/**
 * 99018: installers for the tag exist, but all are newer than CS_VERSION or, when set and lower, than
 * PROCESS_SERVER_VERSION (then the message names both versions).
 */
export function newerThanCsError(info: OsTagInfo, ctx: RepositoryContext & { csVersion: string }, versions: string[]): PushError {
  const pattern = installerFilePattern(info.tag);
  const ps = ctx.processServerId;
  const ceiling = ceilingOf(ctx) ?? ctx.csVersion;
  const byPs = ceiling !== ctx.csVersion;
  const message = byPs
    ? `The repository of process server ${ps} has only ${info.tag} installers newer than the process server itself (versions ${versions.join(', ')}; the ceiling is PROCESS_SERVER_VERSION ${ceiling}, under CS_VERSION ${ctx.csVersion}). `
      + `Place ${pattern} of version ${ceiling} or older in the repository of process server ${ps} (${ctx.repositoryDir}), or update process server ${ps} first.`
    : `The repository of process server ${ps} has only ${info.tag} installers newer than the configuration server (versions ${versions.join(', ')}; the ceiling is CS_VERSION ${ctx.csVersion}${ctx.processServerVersion ? ` and PROCESS_SERVER_VERSION ${ctx.processServerVersion}` : ''}). `
      + `Place ${pattern} of version ${ctx.csVersion} or older in the repository of process server ${ps} (${ctx.repositoryDir}), or update the configuration server first.`;
  const details: Record<string, unknown> = {
    osTag: info.tag,
    csVersion: ctx.csVersion,
    availableVersions: versions,
    filePattern: pattern,
    processServerId: ps,
    repositoryDir: ctx.repositoryDir,
    manualPlacement: info.manualPlacement,
  };
  if (ctx.processServerVersion) details.processServerVersion = ctx.processServerVersion;
  return new PushError(Codes.NewerThanCs, details, { message });
}

/** 99016: CS_VERSION is unset, so no installer may be chosen (the guard is always on). */
export function csVersionMissingError(info: OsTagInfo): PushError {
  return new PushError(Codes.CsSettingsMissing, { missing: 'CS_VERSION', osTag: info.tag }, {
    message: `CS_VERSION is not set, so no ${info.tag} installer can be chosen: an agent must never be newer than the configuration server. Set CS_VERSION to the configuration server's version (e.g. 9.30.0.0) on every process server and restart the daemon.`,
  });
}

/** 99002: the tag is not one of the table. */
export function unknownTagError(tag: string): PushError {
  const known = OS_TAGS.map((t) => t.tag);
  return new PushError(Codes.UnsupportedOs, { osTag: tag, knownTags: known }, {
    message: `"${tag}" is not a known OS tag. Known tags: ${known.join(', ')}.`,
  });
}
