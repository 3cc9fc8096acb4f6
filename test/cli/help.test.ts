// `--help` on every command of the tree (walked from commander's own tree, so a new command is
// covered): exit 0, its usage line, and examples on every command that runs something.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { allCommands, buildProgram, runCli } from '../../src/cli/main.ts';

/** The words that name a command from the top (`jobs list`). */
function pathOf(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => { out += chunk.toString(); return true; }) as typeof process.stdout.write;
  try {
    return { code: await fn(), out };
  } finally {
    process.stdout.write = write;
  }
}

describe('CLI --help', () => {
  it('works on every command, with examples on every leaf', async () => {
    const commands = allCommands(buildProgram()).filter((c) => c.name() !== 'help');
    assert.ok(commands.length > 30, `the whole tree (${commands.length})`);
    for (const cmd of commands) {
      const words = pathOf(cmd);
      const { code, out } = await captured(() => runCli([...words, '--help']));
      assert.equal(code, 0, words.join(' '));
      assert.match(out, new RegExp(`^Usage: pushinstalld${words.map((w) => ` ${w}`).join('')}`), words.join(' '));
      if (cmd.commands.length === 0) assert.match(out, /\nExamples:\n {2}\$ pushinstalld /, `${words.join(' ')} has examples`);
    }
  });

  it('a usage error exits 2', async () => {
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await runCli(['jobs', 'list', '--state', 'Sleeping']), 2);
      assert.equal(await runCli(['enable']), 2, '--inventory is required');
    } finally {
      process.stderr.write = write;
    }
  });
});
