import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Which of `paths` (absolute, symlinks resolved) some process has open for writing. Linux only, through
 * /proc/<pid>/fd and fdinfo; sees the processes this daemon may inspect (its own user's, or all as root).
 * Elsewhere it returns an empty set and the settle time alone decides.
 */
export async function openForWriting(paths: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  if (process.platform !== 'linux' || paths.length === 0) return found;
  const wanted = new Set(paths);
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  } catch {
    return found;
  }
  const BATCH = 64;
  for (let i = 0; i < pids.length; i += BATCH) {
    await Promise.all(pids.slice(i, i + BATCH).map((pid) => scanProcess(pid, wanted, found)));
  }
  return found;
}

async function scanProcess(pid: string, wanted: Set<string>, found: Set<string>): Promise<void> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return; // gone, or not ours to inspect
  }
  for (const fd of fds) {
    let target: string;
    try {
      target = await readlink(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!wanted.has(target) || found.has(target)) continue;
    try {
      const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
      // O_ACCMODE: 0 read-only, 1 write-only, 2 read-write.
      if (flags !== undefined && (Number.parseInt(flags, 8) & 3) !== 0) found.add(target);
    } catch {
      // closed meanwhile
    }
  }
}
