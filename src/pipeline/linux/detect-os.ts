import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { detectLinuxOs, resolveOsName } from '../../repository/os-mapping.ts';
import type { OsResolution } from '../../repository/os-resolution.ts';
import { osTagInfo } from '../../repository/os-tags.ts';
import type { JobContext } from '../context.ts';
import type { GuestFacts } from './probe.ts';

/** Maps the guest's release files and `uname -m` (as the probe read them) to an OS tag (asr-facts.md §5). */
export function detectGuestOs(facts: GuestFacts): OsResolution {
  return detectLinuxOs(facts.releaseFiles(), facts.unameOutput);
}

function fail(res: Extract<OsResolution, { ok: false }>, extra: Record<string, unknown> = {}): PushError {
  const code = res.code ?? (res.unsupported ? Codes.UnsupportedOs : Codes.OsNotDetected);
  return new PushError(code, { reason: res.reason, ...extra }, { message: res.reason });
}

/**
 * The OS tag a job installs for: the request's tag, else its OS name, else what the guest says. An OS
 * name that is ambiguous (e.g. vCenter's "Other 3.x Linux") falls back to detection on the guest.
 */
export function resolveJobOsTag(ctx: JobContext, facts: GuestFacts): string {
  const os = ctx.job.request.os;
  if (os.tag) {
    const info = osTagInfo(os.tag);
    if (!info || info.platform !== 'linux') {
      throw new PushError(Codes.UnsupportedOs, { osTag: os.tag }, { message: `OS tag ${os.tag} is not a Linux OS tag of the repository table.` });
    }
    ctx.log(`OS tag ${info.tag} from the request`);
    return info.tag;
  }
  if (os.name) {
    const res = resolveOsName('linux', os.name);
    if (res.ok) {
      ctx.log(`OS "${os.name}" from the request maps to ${res.tag}`);
      return res.tag;
    }
    if (res.unsupported) throw fail(res, { osName: os.name });
    ctx.log(`OS "${os.name}" from the request is not specific enough (${res.reason}); detecting it on the machine`);
  }
  const detected = detectGuestOs(facts);
  if (!detected.ok) throw fail(detected);
  ctx.log(`detected ${detected.description} on the machine: OS tag ${detected.tag}`);
  return detected.tag;
}
