// The password prompt on a real terminal (util-linux `script` gives the child a pty): what is typed is
// read, and nothing of it is echoed back.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

const hasScript = spawnSync('script', ['--version']).status === 0;
const PROBE = `import { readPassword } from ${JSON.stringify(path.resolve('src/cli/secret-input.ts'))};
const pw = await readPassword(false);
process.stdout.write('read ' + pw.length + ' chars, ' + (pw === 'Tr0ub4dor&3' ? 'the same' : 'different') + '\\n');`;

describe('password prompt', { skip: hasScript ? false : 'util-linux script is missing' }, () => {
  it('on a terminal: asked twice, read in raw mode, never echoed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pi-prompt-'));
    const probe = path.join(dir, 'probe.mts');
    writeFileSync(probe, PROBE);
    const child = spawn('script', ['-qec', `${process.execPath} --import tsx ${probe}`, '/dev/null'], { env: { ...process.env, TERM: 'dumb' } });
    let out = '';
    let asked = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Type only once the prompt is up (raw mode is on by then, so the terminal echoes nothing).
      const prompts = out.split('Password').length - 1;
      if (prompts > asked) { asked = prompts; child.stdin.write('Tr0ub4dor&3\r'); }
    });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, out);
    assert.match(out, /Password: [\s\S]*Password again: [\s\S]*read 11 chars, the same/);
    assert.ok(!out.includes('Tr0ub4dor'), `nothing echoed: ${JSON.stringify(out)}`);
  });
});
