// The daemon's heap growth setting (src/heap-tuning.ts): applied at start-up unless node's command line
// sets it. Its effect on GC and CPU is measured by bench:fleet, not here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tuneHeapGrowth } from '../../src/heap-tuning.ts';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/heap-tuning.ts');

function inChild(nodeArgs: string[]): string {
  const code = `import { tuneHeapGrowth } from ${JSON.stringify(MODULE)}; console.log(tuneHeapGrowth());`;
  return execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' }).trim();
}

describe('heap tuning', () => {
  it('applies --heap-growing-percent in a process started without it', () => {
    assert.equal(inChild([]), 'applied');
  });

  it('keeps a --heap-growing-percent given on the node command line (either spelling)', () => {
    assert.equal(inChild(['--heap-growing-percent=50']), 'command line');
    assert.equal(tuneHeapGrowth(['--heap_growing_percent', '30']), 'command line');
    assert.equal(tuneHeapGrowth(['--heap-growing-percentage=1']), 'applied', 'another flag is not this one');
  });
});
