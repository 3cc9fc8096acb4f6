// The test command behind `npm test`: prepares the lab's shared parts (test users; leftovers of a
// crashed run swept), runs every test file with node:test (each file in its own process, several at
// once; each file starts the servers it needs), then removes what the lab added to the machine.
// Usage: node --import tsx test/run.ts [file-or-substring ...]
//
// Without root, only the files that need no lab server run: a file needs root when it imports (directly
// or through other test modules) one of ROOT_MODULES, which start sshd chroots, smbd or add test users.
// The skipped files are listed. CI runs everything as root.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT_MODULES = ['test/lab/linux-guest.ts', 'test/lab/samba.ts', 'test/lab/users.ts', 'test/lab/windows-ssh-guest.ts'].map((f) => path.resolve(f));

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

/** Every local .ts module `file` imports, transitively (static and dynamic imports of relative paths). */
function localImports(file: string, seen = new Set<string>()): Set<string> {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+\.ts)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1] as string);
    if (seen.has(target)) continue;
    seen.add(target);
    try { localImports(target, seen); } catch { /* a missing file fails the test itself */ }
  }
  return seen;
}

export function needsRoot(file: string): boolean {
  const imports = localImports(path.resolve(file));
  return ROOT_MODULES.some((m) => imports.has(m) || path.resolve(file) === m);
}

async function main(): Promise<number> {
  const started = Date.now();
  const filters = process.argv.slice(2);
  let files = findTests('test');
  if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
  if (files.length === 0) { process.stderr.write('no test files matched\n'); return 1; }
  const root = process.getuid?.() === 0;
  if (!root) {
    const skipped = files.filter(needsRoot);
    files = files.filter((f) => !needsRoot(f));
    if (skipped.length > 0) {
      process.stderr.write(`not root: skipping ${skipped.length} file(s) that start sshd, smbd or add test users (run as root, as CI does, for all):\n`);
      for (const f of skipped) process.stderr.write(`  skipped ${f}\n`);
    }
    if (files.length === 0) { process.stderr.write('no test file left to run without root\n'); return 1; }
  }
  // The lab modules are loaded only as root: they read machine paths at import time.
  const lab = root ? await import('./lab/lab-run.ts') : null;
  await lab?.beginRun();
  const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.min(4, os.availableParallelism() + 1));
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
      stdio: 'inherit',
      env: { ...process.env, PUSHINSTALLD_TEST: '1' },
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await lab?.endRun();
  process.stdout.write(`\n${files.length} test files, wall time ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${code}\n`);
  return code;
}

main().then((code) => process.exit(code), (e: Error) => { process.stderr.write(`${e.stack ?? e.message}\n`); process.exit(1); });
