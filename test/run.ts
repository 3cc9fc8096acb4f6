// The test command behind `npm test`: prepares the lab's shared parts (test users; leftovers of a
// crashed run swept), runs every test file with node:test (each file in its own process, several at
// once; each file starts the servers it needs), then removes what the lab added to the machine.
// Usage: node --import tsx test/run.ts [file-or-substring ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sweepGuests } from './lab/linux-guest.ts';
import { ensureLabUsers, removeLabUsers } from './lab/users.ts';

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const started = Date.now();
  const filters = process.argv.slice(2);
  let files = findTests('test');
  if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
  if (files.length === 0) { process.stderr.write('no test files matched\n'); return 1; }
  if (process.getuid?.() !== 0) {
    process.stderr.write('the test lab runs sshd and smbd and adds test users: run the tests as root (CI does)\n');
    return 1;
  }
  await sweepGuests();
  await ensureLabUsers();
  const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.min(4, os.availableParallelism() + 1));
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
      stdio: 'inherit',
      env: { ...process.env, PUSHINSTALLD_TEST: '1' },
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await sweepGuests();
  await removeLabUsers();
  process.stdout.write(`\n${files.length} test files, wall time ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${code}\n`);
  return code;
}

main().then((code) => process.exit(code), (e: Error) => { process.stderr.write(`${e.stack ?? e.message}\n`); process.exit(1); });
