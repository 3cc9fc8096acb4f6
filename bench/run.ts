// `npm run bench`: runs every benchmark in this folder, one after the other. Each writes its results
// to bench/results/<name>.json and .md. Pass names to run only some: npm run bench -- smb-put
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const benches = readdirSync('bench').filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, ''))
  .filter((name) => only.length === 0 || only.includes(name)).sort();
let failed = 0;
for (const name of benches) {
  process.stdout.write(`\n=== bench ${name} ===\n`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
