// `pushinstalld jobs …`: list, read, follow and act on jobs.
import { Command, Option } from 'commander';
import { JOB_STATES, JOB_TYPES } from '../domain/job.ts';
import type { Job, JobFilter } from '../client/contract.ts';
import { clientOf, examples, printJson, show } from './context.ts';
import { EXIT_CODES_HELP, followJobs } from './watch-command.ts';

function jobLine(j: Job): string {
  return `${j.id}  ${j.state.padEnd(10)} ${j.type.padEnd(20)} ${j.machine.machineId} (${j.machine.address})${j.errors[0] ? `  error ${j.errors[0].code}` : ''}`;
}

const since = (from?: string, to?: string): string => (from && to ? ` ${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s` : '');

/** A job for a reader: what, where, which installer, each task with its time, each error with its action. */
export function describeJob(j: Job): string {
  const lines = [
    `${j.id}  ${j.type}  ${j.state}${j.cancelRequested ? ' (cancel requested)' : ''}`,
    `machine    ${j.machine.machineId} (${j.machine.address}), ${[j.machine.os.family, j.machine.os.name, j.machine.os.tag].filter(Boolean).join(' / ')}`,
    `account    ${j.runAsAccountId} · process server ${j.processServerId} · attempts ${j.attempts}`,
  ];
  if (j.installer) lines.push(`installer  ${j.installer.file} (sha256 ${j.installer.sha256})${j.agentVersion ? ` version ${j.agentVersion}` : ''}`);
  lines.push(`created    ${j.createdAt}${j.startedAt ? ` · started ${j.startedAt}` : ''}${j.endedAt ? ` · ended ${j.endedAt}` : ''}`, 'tasks:');
  for (const t of j.tasks) lines.push(`  ${t.name.padEnd(32)} ${t.state.padEnd(10)}${since(t.startedAt, t.endedAt)}${t.message ? `  ${t.message}` : ''}`);
  for (const e of [...j.errors, ...j.tasks.flatMap((t) => t.errors)].filter((e, i, all) => all.findIndex((x) => x.code === e.code) === i)) {
    lines.push(`error ${e.code}: ${e.message}`, `  causes: ${e.possibleCauses}`, `  action: ${e.recommendedAction}`);
  }
  if (j.restartOf) lines.push(`restart of ${j.restartOf}`);
  return lines.join('\n');
}

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('list, read, follow, cancel and restart jobs');
  examples(jobs.command('list').description('jobs, newest first (one line each)')
    .addOption(new Option('--state <state>', 'only jobs in that state').choices(JOB_STATES))
    .addOption(new Option('--type <type>', 'only jobs of that type').choices(JOB_TYPES))
    .option('--machine-id <id>', 'only jobs of that machine').addOption(new Option('--machineId <id>').hideHelp())
    .option('--process-server <id>', 'only jobs of that process server').addOption(new Option('--processServerId <id>').hideHelp())
    .option('--since <iso-time>', 'only jobs created since').option('--limit <n>', 'page size (default 100)').option('--cursor <cursor>', 'the next page (nextCursor of the previous one)')
    .option('--json', 'the page as JSON ({jobs, nextCursor})')
    .action(async (o: Record<string, string | undefined>, cmd: Command) => {
      const filter = { state: o.state, type: o.type, machineId: o.machineId, processServerId: o.processServer ?? o.processServerId, since: o.since, limit: o.limit, cursor: o.cursor };
      const page = await clientOf(cmd).listJobs(Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as JobFilter);
      show(cmd, page, () => page.jobs.map(jobLine).join('\n') + (page.nextCursor ? `\n(more: --cursor ${page.nextCursor})` : ''));
    }), ['pushinstalld jobs list --state Failed', 'pushinstalld jobs list --machine-id vm-01 --json']);
  examples(jobs.command('get').description('one job: machine, installer, tasks, errors with the recommended action').argument('<id>').option('--json', 'the job as JSON')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const job = await clientOf(cmd).getJob(id);
      show(cmd, job, () => describeJob(job));
    }), ['pushinstalld jobs get 3f0c…', 'pushinstalld jobs get 3f0c… --json | jq .tasks']);
  examples(jobs.command('log').description("the job's log (secrets redacted)").argument('<id>').option('--json', 'as JSON ({id, log})')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const log = await clientOf(cmd).jobLog(id);
      if (cmd.opts<{ json?: boolean }>().json) printJson({ id, log }); else process.stdout.write(log);
    }), ['pushinstalld jobs log 3f0c…']);
  examples(jobs.command('watch').description('follow jobs live until all are final (the progress view)').argument('<ids...>').addHelpText('after', EXIT_CODES_HELP)
    .action(async (ids: string[], _o: unknown, cmd: Command) => followJobs(cmd, { jobIds: ids })), ['pushinstalld jobs watch 3f0c… 9a1b…']);
  examples(jobs.command('cancel').description('cancel a job (its current step is stopped; the job ends Cancelled)').argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => printJson(await clientOf(cmd).cancelJob(id))), ['pushinstalld jobs cancel 3f0c…']);
  examples(jobs.command('restart').description('a new job for the same machine and type (the old one must have ended)').argument('<id>')
    .action(async (id: string, _o: unknown, cmd: Command) => printJson({ jobs: [await clientOf(cmd).restartJob(id)] })), ['pushinstalld jobs restart 3f0c…']);
  return jobs;
}

