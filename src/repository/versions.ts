/**
 * Mobility Service agent versions ("9.30.0.0", "9.22", "9.100.5677.1"): compared numerically part by
 * part, missing trailing parts counting as 0, so 9.9 < 9.22 < 9.23 < 9.100 and 9.30 == 9.30.0.0.
 */

/** The numeric parts of a version. Throws on anything but dot-separated decimal integers. */
export function parseVersion(v: string): number[] {
  const text = v.trim();
  if (!/^\d+(\.\d+)*$/.test(text)) {
    throw new Error(`invalid version "${v}": expected dot-separated numbers such as 9.30.0.0`);
  }
  return text.split('.').map((part) => Number.parseInt(part, 10));
}

/** Negative if a < b, 0 if equal (9.30 == 9.30.0.0), positive if a > b. Throws on a non-numeric version. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True if `v` parses as a version. */
export function isVersion(v: string): boolean {
  return /^\d+(\.\d+)*$/.test(v.trim());
}

/** The highest of `versions` (undefined if empty). */
export function maxVersion(versions: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (best === undefined || compareVersions(v, best) > 0) best = v;
  return best;
}

/*
 * Releases. An installer's file version names a release ("…_9.30.0.0_…" is release 9.30); an installed
 * agent reports its build ("9.30.5407.1" in the Uninstall key's DisplayVersion, and maybe in
 * /usr/local/.vx_version). So agent and installer are compared by major.minor only; the build is
 * informational (the job record's installedBuild). The one rule for every such comparison.
 */

/** The release a version names: its major.minor ("9.30.5407.1" → "9.30"). */
export function releaseOf(v: string): string {
  const [major = 0, minor = 0] = parseVersion(v);
  return `${major}.${minor}`;
}

/** Like compareVersions, on the releases only: 9.30.5407.1 and 9.30.0.0 compare equal. */
export function compareReleases(a: string, b: string): number {
  return compareVersions(releaseOf(a), releaseOf(b));
}

/** An installed agent (build-numbered or not) is the installer's release. */
export function sameRelease(installed: string, installer: string): boolean {
  return compareReleases(installed, installer) === 0;
}
