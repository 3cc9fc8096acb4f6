// pushinstalld's operator CLI (`npx pushinstalld …`, `npm run cli -- …`), on commander: one file per
// command group. Local commands work on this machine's files (tokens, vault key); the others call the
// REST API through the typed client (--url/--token, else PUSHINSTALLD_URL/PUSHINSTALLD_TOKEN), like any
// other client. Exit codes: context.ts EXIT (0 ok, 1 failed/API error, 2 usage, 3 warning, 130 Ctrl-C).
import { Command, CommanderError } from 'commander';
import { ApiError } from '../client/api-client.ts';
import { accountsCommand } from './accounts.ts';
import { hostKeysCommand, processServersCommand } from './admin.ts';
import { DEFAULT_URL, EXIT, ExitCode, UsageError } from './context.ts';
import { jobsCommand } from './jobs.ts';
import { tokensCommand, vaultCommand } from './local.ts';
import { repositoryCommand } from './repository.ts';
import { addSubmitCommands } from './submit.ts';
import { EXIT_CODES_HELP } from './watch-command.ts';

/** The whole command tree (exported for the test that walks every command's --help). */
export function buildProgram(): Command {
  const program = new Command('pushinstalld')
    .description('push the Azure Site Recovery Mobility Service agent to machines, and watch the jobs')
    .option('--url <url>', `the daemon's API (env PUSHINSTALLD_URL, default ${DEFAULT_URL})`)
    .option('--token <token>', 'an API token (env PUSHINSTALLD_TOKEN; prefer the variable: arguments show in ps)')
    .addHelpText('after', `${EXIT_CODES_HELP}
Examples:
  $ export PUSHINSTALLD_URL=http://127.0.0.1:8080 PUSHINSTALLD_TOKEN=…
  $ pushinstalld accounts add --name lab-root --os-family linux --username root
  $ pushinstalld enable --inventory machines.csv --account lab-root
  $ pushinstalld jobs list --state Failed
`);
  addSubmitCommands(program);
  for (const group of [jobsCommand(), accountsCommand(), repositoryCommand(), processServersCommand(), hostKeysCommand(), tokensCommand(), vaultCommand()]) program.addCommand(group);
  return program;
}

/** Every command of the tree, depth first. */
export function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap((c) => allCommands(c))];
}

function codeOf(e: unknown): number {
  if (e instanceof ExitCode) return e.code;
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const message = e instanceof ApiError ? `${e.method} ${e.path}: ${e.status} ${e.message}` : (e as Error).message;
  process.stderr.write(`pushinstalld: ${message}\n`);
  return e instanceof UsageError ? EXIT.usage : EXIT.failed;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  // commander would exit(1) on a usage error; every command throws instead, mapped to exit 2 here.
  for (const c of allCommands(program)) c.exitOverride().showHelpAfterError('(add --help for usage)');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    return codeOf(e);
  }
}

// Run when started as a program (bin/pushinstalld.js, npm run cli), not when a test imports the tree.
if (process.argv[1] && /(?:cli[\\/]main\.ts|pushinstalld(?:\.js)?)$/.test(process.argv[1])) {
  process.exit(await runCli(process.argv.slice(2)));
}
