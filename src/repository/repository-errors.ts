import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { installerFilePattern } from './installer-name.ts';
import { OS_TAGS, type OsTagInfo } from './os-tags.ts';

/** The errors InstallerRepository.select throws, with the text an administrator acts on. */

export interface RepositoryContext {
  processServerId: string;
  /** Absolute path of the repository folder. */
  repositoryDir: string;
  csVersion?: string;
}

function downloadHint(info: OsTagInfo, ctx: RepositoryContext): string {
  const version = ctx.csVersion ? ` of version ${ctx.csVersion} or older (the configuration server's version)` : '';
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
  if (ctx.csVersion) message += ` Use version ${ctx.csVersion} or older (the configuration server's version).`;
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
  if (stillCopying.length > 0) details.stillCopying = stillCopying;
  return new PushError(Codes.InstallerMissing, details, stillCopying.length > 0 ? { message, retryable: true } : { message });
}

/** 99018: installers for the tag exist, but all are newer than CS_VERSION. */
export function newerThanCsError(info: OsTagInfo, ctx: RepositoryContext & { csVersion: string }, versions: string[]): PushError {
  const pattern = installerFilePattern(info.tag);
  const ps = ctx.processServerId;
  const message = `The repository of process server ${ps} has only ${info.tag} installers newer than the configuration server (versions ${versions.join(', ')}; the ceiling is CS_VERSION ${ctx.csVersion}). `
    + `Place ${pattern} of version ${ctx.csVersion} or older in the repository of process server ${ps} (${ctx.repositoryDir}), or update the configuration server first.`;
  return new PushError(Codes.NewerThanCs, {
    osTag: info.tag,
    csVersion: ctx.csVersion,
    availableVersions: versions,
    filePattern: pattern,
    processServerId: ps,
    repositoryDir: ctx.repositoryDir,
    manualPlacement: info.manualPlacement,
  }, { message });
}

/** 99002: the tag is not one of the table. */
export function unknownTagError(tag: string): PushError {
  const known = OS_TAGS.map((t) => t.tag);
  return new PushError(Codes.UnsupportedOs, { osTag: tag, knownTags: known }, {
    message: `"${tag}" is not a known OS tag. Known tags: ${known.join(', ')}.`,
  });
}
