// `pushinstalld repository …`: what the installer repository offers, per OS, and the pieces of a
// manual install (the installer, checked by SHA-256, and the documented command lines).
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Command } from 'commander';
import { ApiError } from '../client/api-client.ts';
import type { InstallerListing } from '../client/contract.ts';
import { baseUrlOf, clientOf, examples, out, show, table, tokenOf, UsageError } from './context.ts';

function listing(l: InstallerListing): string {
  const installers = table(['FILE', 'OS TAG', 'PLATFORM', 'VERSION', 'RELEASED', 'ELIGIBLE'], l.installers.map((i) => [i.file, i.osTag, i.platform, i.version, i.releaseDate, i.eligible ? 'yes' : 'no (newer than CS_VERSION)']));
  const rejected = l.rejected.length > 0 ? `\nrejected files:\n${table(['FILE', 'REASON'], l.rejected.map((r) => [r.file, r.reason]))}` : '';
  return installers + rejected;
}

interface ManualInstall {
  installer: { file: string; version: string; sha256: string; download: string };
  stagingFolder: string;
  installLocation: string;
  steps: Array<{ what: string; command: string }>;
  placeholders: Record<string, string>;
}

function manualLines(m: ManualInstall): string {
  return [
    `installer  ${m.installer.file} (version ${m.installer.version}, sha256 ${m.installer.sha256})`,
    `download   pushinstalld repository download ${m.installer.file}`,
    `copy it to ${m.stagingFolder} on the machine, then:`,
    ...m.steps.flatMap((s, i) => [`  ${i + 1}. ${s.what}`, `     ${s.command}`]),
    ...Object.entries(m.placeholders).map(([k, v]) => `replace ${k}: ${v}`),
  ].join('\n');
}

/** Streams an offered installer to a file; the SHA-256 of the bytes must equal the ETag, else the file is removed. */
async function download(cmd: Command, file: string, outFile: string): Promise<void> {
  const path = `/api/v1/repository/installers/${encodeURIComponent(file)}/content`;
  const res = await fetch(`${baseUrlOf(cmd).replace(/\/+$/, '')}${path}`, { headers: { authorization: `Bearer ${tokenOf(cmd)}` } });
  if (!res.ok || !res.body) {
    const text = await res.text();
    let body: object | string = text;
    try { body = JSON.parse(text) as object; } catch { /* text */ }
    throw new ApiError('GET', path, res.status, body);
  }
  const hash = createHash('sha256');
  const partial = `${outFile}.part`;
  const tee = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk); } });
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), tee, createWriteStream(partial));
  const sha = hash.digest('hex');
  if (res.headers.get('etag') !== `"${sha}"`) {
    rmSync(partial, { force: true });
    throw new Error(`download ${file}: SHA-256 ${sha} does not match the repository's ${res.headers.get('etag')}`);
  }
  renameSync(partial, outFile);
  out(`${outFile}  sha256 ${sha}`);
}

export function repositoryCommand(): Command {
  const repo = new Command('repository').description('the installer repository: installers, OS coverage, manual installs');
  examples(repo.command('list').description('the installers offered (per OS tag and version) and the files rejected, with why').option('--json', 'as JSON')
    .action(async (_o: unknown, cmd: Command) => { const l = await clientOf(cmd).listInstallers(); show(cmd, l, () => listing(l)); }), ['pushinstalld repository list']);
  examples(repo.command('os-support').description('each supported OS tag: present versions, the one a push would use, what is missing').option('--json', 'as JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const support = await clientOf(cmd).osSupport();
      show(cmd, { osSupport: support }, () => table(['TAG', 'PLATFORM', 'PRESENT', 'PUSHES', 'VERSIONS', 'OS NAMES'], support.map((s) => [
        s.tag, s.platform, s.present ? 'yes' : 'MISSING', s.selectableVersion ?? '-', s.versions.join(' ') || '-', s.osNames.join('; '),
      ])));
    }), ['pushinstalld repository os-support', 'pushinstalld repository os-support --json | jq \'.osSupport[] | select(.present | not) | .tag\'']);
  examples(repo.command('rescan').description('re-read the repository folder now (files dropped in are otherwise seen once settled)').option('--json', 'as JSON')
    .action(async (_o: unknown, cmd: Command) => { const l = await clientOf(cmd).rescanRepository(); show(cmd, l, () => listing(l)); }), ['pushinstalld repository rescan']);
  examples(repo.command('download').description("fetch an offered installer; its SHA-256 is checked against the repository's").argument('<file>').option('--out <path>', 'where to write it (default: the file name)')
    .action((file: string, o: { out?: string }, cmd: Command) => download(cmd, file, o.out ?? file)), ['pushinstalld repository download Microsoft-ASR_UA_9.30.0.0_UBUNTU-20.04-64_GA_01Jan2026_release.tar.gz --out /tmp/agent.tar.gz']);
  examples(repo.command('manual-install').description('the installer and the documented command lines to install by hand')
    .option('--os-tag <tag>', 'e.g. RHEL7-64').option('--os-name <name>', 'e.g. "Red Hat Enterprise Linux 7.9"').option('--json', 'as JSON')
    .action(async (o: { osTag?: string; osName?: string }, cmd: Command) => {
      if ((o.osTag === undefined) === (o.osName === undefined)) throw new UsageError('give exactly one of --os-tag and --os-name');
      const path = `/api/v1/repository/manual-install?${new URLSearchParams(o.osTag ? { osTag: o.osTag } : { osName: o.osName as string })}`;
      const res = await clientOf(cmd).raw<ManualInstall>('GET', path);
      if (res.status >= 400) throw new ApiError('GET', path, res.status, res.body as object);
      show(cmd, res.body, () => manualLines(res.body));
    }), ['pushinstalld repository manual-install --os-tag RHEL7-64', 'pushinstalld repository manual-install --os-name "Ubuntu 20.04" --json']);
  return repo;
}
