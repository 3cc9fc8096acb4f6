// What the documentation advises beyond the hard prerequisites, checked by the readiness check and
// reported as warnings, never failures: the agent's memory share and (Windows) the antivirus exclusion.
import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import type { JobError, TaskName } from '../domain/job.ts';
import type { JobContext } from './context.ts';

/** The Mobility Service uses about 6-10% of the machine's memory: warn when less than 10% is available. */
export const MIN_AVAILABLE_MEMORY_SHARE = 0.1;

/** One finding: a note for the task's message and, when the advice is not followed, a warning. */
export interface Finding {
  note: string;
  warning?: PushError;
}

const MiB = 1024 * 1024;

/** Total and available memory against the agent's 6-10% share. */
export function memoryFinding(totalBytes: number, availableBytes: number): Finding {
  const totalMiB = Math.floor(totalBytes / MiB);
  const availableMiB = Math.floor(availableBytes / MiB);
  const percent = totalBytes > 0 ? Math.round((availableBytes / totalBytes) * 1000) / 10 : 0;
  const note = `memory: ${availableMiB} MiB of ${totalMiB} MiB available (${percent}%)`;
  if (totalBytes > 0 && availableBytes / totalBytes >= MIN_AVAILABLE_MEMORY_SHARE) return { note };
  return {
    note: `${note}: below 10%, and the Mobility Service uses about 6-10% of the machine's memory`,
    warning: new PushError(Codes.LowMemory, { totalMiB, availableMiB, availablePercent: percent, agentShare: '6-10%' }),
  };
}

/** Memory figures that could not be read: said in the note, no warning (nothing is known to be wrong). */
export function memoryUnknown(why: string): Finding {
  return { note: `memory: could not be read (${why})` };
}

/**
 * Records the findings on a task that is running (call inside ctx.task): its message lists them all; with
 * a warning the task ends Warning with the first one. Returns the job-level warnings.
 */
export async function reportFindings(ctx: JobContext, task: TaskName, findings: Finding[]): Promise<JobError[]> {
  const warnings = findings.flatMap((f) => (f.warning ? [f.warning.toJobError()] : []));
  const message = findings.map((f) => f.note).join('; ');
  for (const f of findings) ctx.log(f.note);
  if (warnings[0]) await ctx.endTask(task, 'Warning', warnings[0], message);
  else await ctx.note(task, message);
  return warnings;
}
