import { Codes } from '../errors/catalogue.ts';
import { PushError } from '../errors/push-error.ts';
import type { JobContext, PipelineOutcome } from './context.ts';
import type { PipelineDeps } from './deps.ts';
import { enableReplicationLinux } from './linux/enable-replication.ts';
import { readinessCheckLinux } from './linux/readiness-check.ts';
import { uninstallAgentLinux } from './linux/uninstall-agent.ts';
import { updateAgentLinux } from './linux/update-agent.ts';
import { enableReplicationWindows } from './windows/enable-replication.ts';
import { installVssProviderWindows } from './windows/install-vss-provider.ts';
import { readinessCheckWindows } from './windows/readiness-check.ts';
import { uninstallAgentWindows } from './windows/uninstall-agent.ts';
import { updateAgentWindows } from './windows/update-agent.ts';

/** Picks the pipeline for a job's type and OS family. */
export async function runPipeline(ctx: JobContext, deps: PipelineDeps): Promise<PipelineOutcome> {
  const { type, request } = ctx.job;
  if (type === 'enable-replication' && request.os.family === 'linux') return enableReplicationLinux(ctx, deps);
  if (type === 'update-agent' && request.os.family === 'linux') return updateAgentLinux(ctx, deps);
  if (type === 'uninstall-agent' && request.os.family === 'linux') return uninstallAgentLinux(ctx, deps);
  if (type === 'readiness-check' && request.os.family === 'linux') return readinessCheckLinux(ctx, deps);
  if (type === 'enable-replication' && request.os.family === 'windows') return enableReplicationWindows(ctx, deps);
  if (type === 'update-agent' && request.os.family === 'windows') return updateAgentWindows(ctx, deps);
  if (type === 'uninstall-agent' && request.os.family === 'windows') return uninstallAgentWindows(ctx, deps);
  if (type === 'install-vss-provider' && request.os.family === 'windows') return installVssProviderWindows(ctx, deps);
  if (type === 'readiness-check' && request.os.family === 'windows') return readinessCheckWindows(ctx, deps);
  throw new PushError(Codes.Internal, { type, osFamily: request.os.family }, {
    message: `Jobs of type ${type} for ${request.os.family} machines are not supported by this version of pushinstalld.`,
  });
}
