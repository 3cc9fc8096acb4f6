// `pushinstalld accounts …`: the run-as accounts jobs connect with. Passwords are read without echo or
// from stdin (secret-input.ts); the API never answers with a secret, so no output can hold one.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { OS_FAMILIES } from '../domain/os.ts';
import type { ApiClient } from '../client/api-client.ts';
import type { Account, AccountCreate, AccountUpdate } from '../client/contract.ts';
import { clientOf, examples, out, show, table, UsageError } from './context.ts';
import { readPassword } from './secret-input.ts';

/** The account with that id, else the one with that name (a name two accounts share must be given as an id). */
export async function resolveAccount(client: ApiClient, nameOrId: string): Promise<Account> {
  const accounts = await client.listAccounts();
  const byId = accounts.find((a) => a.id === nameOrId);
  if (byId) return byId;
  const named = accounts.filter((a) => a.name === nameOrId);
  if (named.length === 1) return named[0] as Account;
  if (named.length > 1) throw new UsageError(`${named.length} accounts are named "${nameOrId}": give its id (${named.map((a) => a.id).join(', ')})`);
  throw new UsageError(`no run-as account with the id or name "${nameOrId}" (pushinstalld accounts list)`);
}

function accountRows(accounts: Account[]): string {
  return table(['ID', 'NAME', 'OS', 'USER', 'SECRET', 'SUDO', 'STATUS'], accounts.map((a) => [
    a.id, a.name, a.osFamily, a.domain ? `${a.domain}\\${a.username}` : a.username,
    [a.hasPassword ? 'password' : '', a.hasPrivateKey ? 'key' : ''].filter(Boolean).join('+') || 'none', a.useSudo ? 'yes' : 'no',
    a.suspended ? `SUSPENDED since ${a.suspendedAt ?? '?'} after ${a.authFailures} failed sign-ins: set a new password (accounts update --set-password) to unsuspend` : 'ok',
  ]));
}

interface SecretOptions { passwordStdin?: boolean; setPassword?: boolean; privateKeyFile?: string }

async function secrets(o: SecretOptions, wantPassword: boolean): Promise<Partial<AccountCreate>> {
  const s: Partial<AccountCreate> = {};
  if (o.privateKeyFile) s.privateKey = readFileSync(o.privateKeyFile, 'utf8');
  if (wantPassword) s.password = await readPassword(o.passwordStdin);
  return s;
}

const SECRET_HELP = `
The password is never an argument: it is asked without echo on a terminal, or read from standard input
with --password-stdin (e.g. from a secret store: vault read -field=pw … | pushinstalld accounts add … --password-stdin).`;

export function accountsCommand(): Command {
  const accounts = new Command('accounts').description('run-as accounts (credentials the jobs connect with; never shown)');
  examples(accounts.command('list').description('every account; suspended ones flagged with how to unsuspend').option('--json', 'as JSON')
    .action(async (_o: unknown, cmd: Command) => { const list = await clientOf(cmd).listAccounts(); show(cmd, { accounts: list }, () => accountRows(list)); }),
  ['pushinstalld accounts list', 'pushinstalld accounts list --json']);
  examples(accounts.command('add').description('add an account (password prompted, or from stdin)')
    .requiredOption('--name <name>', 'its name (what --account takes)').requiredOption('--username <user>', 'the user on the guests')
    .addOption(new Option('--os-family <family>', 'the guests it is for').choices(OS_FAMILIES).makeOptionMandatory())
    .option('--domain <domain>', 'Windows domain ("." for a local account)').option('--use-sudo', 'Linux: a non-root user that runs the installer through sudo')
    .option('--password-stdin', 'read the password from standard input').option('--private-key-file <file>', 'Linux: an SSH private key (then no password is asked unless --password-stdin)')
    .option('--json', 'the new account as JSON').addHelpText('after', SECRET_HELP)
    .action(async (o: SecretOptions & { name: string; username: string; osFamily: Account['osFamily']; domain?: string; useSudo?: boolean }, cmd: Command) => {
      const input: AccountCreate = { name: o.name, osFamily: o.osFamily, username: o.username, ...(await secrets(o, !o.privateKeyFile || !!o.passwordStdin)) };
      if (o.domain !== undefined) input.domain = o.domain;
      if (o.useSudo) input.useSudo = true;
      const a = await clientOf(cmd).createAccount(input);
      show(cmd, a, () => `added account ${a.name} (${a.id})`);
    }), ['pushinstalld accounts add --name lab-root --os-family linux --username root', "printf '%s' \"$PW\" | pushinstalld accounts add --name win-admin --os-family windows --domain . --username Administrator --password-stdin"]);
  examples(accounts.command('update').description('change an account; a new password also unsuspends it').argument('<name|id>')
    .option('--name <name>', 'rename').option('--username <user>').option('--domain <domain>').option('--use-sudo', 'run through sudo').option('--no-use-sudo', 'connect as the user itself')
    .option('--set-password', 'set a new password (prompted)').option('--password-stdin', 'set a new password read from standard input').option('--private-key-file <file>', 'a new SSH private key')
    .option('--json', 'the account as JSON').addHelpText('after', SECRET_HELP)
    .action(async (which: string, o: SecretOptions & AccountUpdate, cmd: Command) => {
      const client = clientOf(cmd);
      const id = (await resolveAccount(client, which)).id;
      const input: AccountUpdate = { ...(await secrets(o, !!o.setPassword || !!o.passwordStdin)) };
      for (const k of ['name', 'username', 'domain', 'useSudo'] as const) if (o[k] !== undefined) Object.assign(input, { [k]: o[k] });
      if (Object.keys(input).length === 0) throw new UsageError('nothing to change (see accounts update --help)');
      const a = await client.updateAccount(id, input);
      show(cmd, a, () => `updated account ${a.name} (${a.id})`);
    }), ['pushinstalld accounts update lab-root --set-password', 'pushinstalld accounts update 6c1d… --username deploy --use-sudo']);
  examples(accounts.command('delete').description('delete an account').argument('<name|id>')
    .action(async (which: string, _o: unknown, cmd: Command) => {
      const client = clientOf(cmd);
      const a = await resolveAccount(client, which);
      await client.deleteAccount(a.id);
      out(`deleted account ${a.name} (${a.id})`);
    }), ['pushinstalld accounts delete lab-root']);
  return accounts;
}
