import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { detectLinuxOs, LINUX_RELEASE_FILES, resolveOsName } from '../../repository/os-mapping.ts';
import type { OsResolution } from '../../repository/os-resolution.ts';
import { osTagInfo } from '../../repository/os-tags.ts';
import type { JobContext } from '../context.ts';
import { linuxCommands, parseMarkedFiles } from './commands.ts';
import type { LinuxGuest } from './linux-guest.ts';

/** Reads the release files and `uname -m` on the guest and maps them to an OS tag (asr-facts.md §5). */
export async function detectGuestOs(guest: LinuxGuest): Promise<OsResolution> {
  const files = parseMarkedFiles((await guest.run(linuxCommands.releaseFiles(LINUX_RELEASE_FILES))).stdout);
  const arch = (await guest.run(linuxCommands.uname())).stdout.trim();
  return detectLinuxOs(files, arch);
}

function fail(res: Extract<OsResolution, { ok: false }>, extra: Record<string, unknown> = {}): PushError {
  const code = res.code ?? (res.unsupported ? Codes.UnsupportedOs : Codes.OsNotDetected);
  return new PushError(code, { reason: res.reason, ...extra }, { message: res.reason });
}

/**
 * The OS tag a job installs for: the request's tag, else its OS name, else what the guest says. An OS
 * name that is ambiguous (e.g. vCenter's "Other 3.x Linux") falls back to detection on the guest.
 */
export async function resolveJobOsTag(ctx: JobContext, guest: LinuxGuest): Promise<string> {
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
  const detected = await detectGuestOs(guest);
  if (!detected.ok) throw fail(detected);
  ctx.log(`detected ${detected.description} on the machine: OS tag ${detected.tag}`);
  return detected.tag;
}
