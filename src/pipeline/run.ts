import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import type { JobContext, PipelineOutcome } from './context.ts';
import type { PipelineDeps } from './deps.ts';
import { enableReplicationLinux } from './linux/enable-replication.ts';
import { readinessCheckLinux } from './linux/readiness-check.ts';
import { uninstallAgentLinux } from './linux/uninstall-agent.ts';
import { updateAgentLinux } from './linux/update-agent.ts';
import { enableReplicationWindows } from './windows/enable-replication.ts';

/** Picks the pipeline for a job's type and OS family. */
export async function runPipeline(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const { type, request } = ctx.job;
  if (type === 'enable-replication' && request.os.family === 'linux') return enableReplicationLinux(ctx, deps);
  if (type === 'update-agent' && request.os.family === 'linux') return updateAgentLinux(ctx, deps);
  if (type === 'uninstall-agent' && request.os.family === 'linux') return uninstallAgentLinux(ctx, deps);
  if (type === 'readiness-check' && request.os.family === 'linux') return readinessCheckLinux(ctx, deps);
  if (type === 'enable-replication' && request.os.family === 'windows') return enableReplicationWindows(ctx, deps);
  throw new PushError(Codes.Internal, { type, osFamily: request.os.family }, {
    message: `Jobs of type ${type} for ${request.os.family} machines are not supported by this version of pushinstalld.`,
  });
}

/** Whether this version can run a job of that type for that OS family (the API refuses the rest up front). */
export function supportsJob(type: string, family: string): boolean {
  if (type === 'enable-replication') return family === 'linux' || family === 'windows';
  // The VSS provider exists on Windows only.
  if (type === 'update-agent' || type === 'uninstall-agent' || type === 'readiness-check') return family === 'linux';
  return false;
}
