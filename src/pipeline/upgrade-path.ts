import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import { compareReleases, compareVersions, parseVersion } from '../repository/versions.ts';
import type { PipelineDeps, SelectedInstaller } from './deps.ts';

/** Largest number of minor versions one update may jump (asr-facts.md §7: 9.16 → 9.20 → 9.24). */
export const MAX_MINOR_STEP = 4;

/** How many minor versions `to` is ahead of `from` (Infinity across major versions). */
export function minorGap(from: string, to: string): number {
  const [fa = 0, fb = 0] = parseVersion(from);
  const [ta = 0, tb = 0] = parseVersion(to);
  return fa === ta ? tb - fb : Infinity;
}

/**
 * The installer an update brings an agent to: the highest version under the configuration server's
 * (what `select` gives), or, when that is more than 4 minor versions ahead of the installed agent, the
 * highest in the repository that is at most 4 ahead (an update in steps). None: 99022 naming the step.
 */
export async function selectUpdateTarget(deps: PipelineDeps, tag: string, installed: string): Promise<{ installer: SelectedInstaller; finalTarget: string }> {
  const best = await deps.repository.select(tag);
  if (compareReleases(best.version, installed) <= 0 || minorGap(installed, best.version) <= MAX_MINOR_STEP) return { installer: best, finalTarget: best.version };
  const steps = deps.repository.installers()
    .filter((i) => i.osTag === best.osTag && compareReleases(i.version, installed) > 0 && compareReleases(i.version, best.version) <= 0 && minorGap(installed, i.version) <= MAX_MINOR_STEP)
    .sort((a, b) => compareVersions(b.version, a.version));
  const step = steps[0];
  if (step) return { installer: step, finalTarget: best.version };
  const [major = 9, minor = 0] = parseVersion(installed);
  throw new PushError(Codes.UpgradeGapTooLarge, { installedVersion: installed, targetVersion: best.version, osTag: best.osTag, nextStep: `${major}.${minor + MAX_MINOR_STEP}` }, {
    message: `Agent ${installed} cannot be updated to ${best.version} in one step (at most ${MAX_MINOR_STEP} minor versions): place the ${best.osTag} installer of version ${major}.${minor + MAX_MINOR_STEP} (or any between) in the repository and update in steps.`,
  });
}
