// `pushinstalld enable|update|uninstall|readiness|install-vss-provider --inventory <file> --account …`:
// reads and checks the whole inventory (nothing is sent when a row is bad), submits one job per machine,
// then follows them in the progress view and exits with the batch's outcome.
import type { Command } from 'commander';
import type { JobType } from '../domain/job.ts';
import { clientOf, examples, EXIT, ExitCode, show, table } from './context.ts';
import { resolveAccount } from './accounts.ts';
import { CSV_COLUMNS, InventoryError, readInventory } from './inventory.ts';
import { EXIT_CODES_HELP, followJobs } from './watch-command.ts';

const SUBMITS: Array<[name: string, type: JobType, summary: string]> = [
  ['enable', 'enable-replication', 'push and install the Mobility Service agent, then register it (enable replication)'],
  ['update', 'update-agent', 'update the installed agent to the repository\'s version'],
  ['uninstall', 'uninstall-agent', 'uninstall the agent'],
  ['readiness', 'readiness-check', 'check that each machine can be pushed to (connectivity, prerequisites), changing nothing'],
  ['install-vss-provider', 'install-vss-provider', 'install the VSS provider (Windows machines only)'],
];

const INVENTORY_HELP = `
Inventory:
  CSV (any file not ending in .json): a header row, then a machine per row; quoted fields ("a, b", "say ""hi""") allowed.
    Columns (any order, case-insensitive): ${CSV_COLUMNS.join(', ')}
    Required: machineId, address, osFamily (linux|windows). osName (e.g. "Ubuntu 20.04") or osTag (e.g. UBUNTU-20.04-64),
    port (SSH, WinRM or OpenSSH port), smbPort (Windows, default 445), windowsTransport (winrm-http|winrm-https|ssh), installLocation: optional.
  JSON (.json): an array of machine objects as the API takes them (api.md "Machine"); runAsAccountId may come from --account.
  Every row is checked first: bad rows are listed with their line (CSV) or item (JSON) and field, nothing is submitted, exit 2.
`;

interface SubmitOptions { inventory: string; account?: string; processServer?: string; wait: boolean; json?: boolean }

async function submit(type: JobType, o: SubmitOptions, cmd: Command): Promise<void> {
  const client = clientOf(cmd);
  const runAsAccountId = o.account === undefined ? undefined : (await resolveAccount(client, o.account)).id;
  let machines;
  try {
    machines = readInventory(o.inventory, { runAsAccountId, processServerId: o.processServer });
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    process.stderr.write(`pushinstalld: ${e.message}\n`);
    throw new ExitCode(EXIT.usage);
  }
  if (!o.wait) {
    const jobs = await client.submit(type, machines);
    show(cmd, { jobs }, () => table(['JOB', 'MACHINE', 'STATE', 'NEW'], jobs.map((j) => [j.id, j.machineId, j.state, j.created ? 'yes' : 'no (already active)'])));
    return;
  }
  await followJobs(cmd, { start: () => client.submit(type, machines) });
}

export function addSubmitCommands(program: Command): void {
  for (const [name, type, summary] of SUBMITS) {
    const cmd = program.command(name).description(`${summary}: one job per machine of the inventory, followed live`)
      .requiredOption('--inventory <file>', 'machines.csv or machines.json')
      .option('--account <name|id>', 'the run-as account for every machine (its name or id)')
      .option('--process-server <id>', 'the process server to push from (default: the daemon\'s)')
      .option('--no-wait', 'print the job ids and exit 0 without following them')
      .option('--json', 'with --no-wait: the submit response as JSON')
      .addHelpText('after', INVENTORY_HELP + EXIT_CODES_HELP)
      .action((o: SubmitOptions, c: Command) => submit(type, o, c));
    examples(cmd, [
      `pushinstalld ${name} --inventory machines.csv --account lab-root`,
      `pushinstalld ${name} --inventory machines.json --account 6c1d… --process-server ps-eu1 --no-wait`,
    ]);
  }
}

