// The end of every command that follows jobs (submits and `jobs watch`): the progress view, then the
// exit code of the batch, or on Ctrl-C how to watch the still running jobs again (exit 130).
import type { Command } from 'commander';
import type { SubmittedJob } from '../client/contract.ts';
import { clientOf, EXIT, ExitCode } from './context.ts';
import { watchJobs } from './progress.ts';

export const EXIT_CODES_HELP = `
Exit codes (when waiting for the jobs):
  0    every job Succeeded
  3    the worst job ended in Warning
  1    a job Failed or was Cancelled (also: an API error)
  2    usage error (bad option, bad inventory row): nothing was submitted
  130  interrupted (Ctrl-C): the jobs keep running on the daemon
`;

/** Follows the jobs (those `start` submits, or `jobIds`) and ends the CLI with the batch's exit code. */
export async function followJobs(cmd: Command, from: { start?: () => Promise<SubmittedJob[]>; jobIds?: string[] }): Promise<never> {
  const { progress, interrupted } = await watchJobs(clientOf(cmd), from);
  if (interrupted) {
    const ids = progress.list().map((r) => r.jobId);
    process.stderr.write(`\nstopped watching; the ${ids.length} job(s) keep running. Watch them again with:\n  pushinstalld jobs watch ${ids.join(' ')}\n`);
    throw new ExitCode(EXIT.interrupted);
  }
  throw new ExitCode(progress.exitCode());
}
