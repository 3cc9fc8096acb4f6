import type { AccountSecrets, RunAsAccount } from '../../accounts/accounts.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import type { CommandChannel, FileChannel, SshCredentials } from '../../transports/transport.ts';
import type { JobContext } from '../context.ts';
import type { PipelineDeps } from '../deps.ts';
import { tail } from '../output.ts';
import { LinuxGuest, sudoPasswordError, sudoWantsPassword } from './linux-guest.ts';
import { linuxCommands } from './commands.ts';

type Account = RunAsAccount & { secrets: AccountSecrets };

function credentialsOf(account: Account): SshCredentials {
  const credentials: SshCredentials = { username: account.username };
  if (account.secrets.password !== undefined) credentials.password = account.secrets.password;
  if (account.secrets.privateKey !== undefined) credentials.privateKey = account.secrets.privateKey;
  if (account.secrets.passphrase !== undefined) credentials.passphrase = account.secrets.passphrase;
  return credentials;
}

/**
 * A sudoer account (useSudo) must be root or have password-less sudo (95108 otherwise). An account that
 * is not a sudoer must be root: its guest checks uid 0 in front of the first command (LinuxGuest).
 */
async function checkSudo(guest: LinuxGuest): Promise<void> {
  const uid = (await guest.must(linuxCommands.whoami(), { what: 'read the user id' })).trim();
  if (uid === '0') return;
  const res = await guest.run(linuxCommands.sudoCheck(), { privileged: false });
  if (res.code === 0) return;
  if (sudoWantsPassword(res.stderr)) throw sudoPasswordError(guest.username, res.stderr);
  const missing = res.code === 127 || /not found/i.test(res.stderr);
  throw new PushError(Codes.LinuxCredentials, {
    reason: missing
      ? `useSudo is set but sudo is not installed on the machine (uid ${uid})`
      : `sudo -n true fails for ${guest.username} (exit ${res.code}): the account needs password-less sudo for every command (useSudo)`,
    uid, stderr: tail(res.stderr, 10),
  });
}

/**
 * Opens the SSH channel to a Linux guest with the run-as account and checks it may act as root: a sudoer
 * (useSudo) here, uid 0 or password-less sudo; any other account must be uid 0, which its first command
 * checks in the same exec (LinuxGuest). Authentication failures count towards the
 * account's lockout guard; a success resets it.
 */
export async function connectLinuxGuest(ctx: JobContext, deps: PipelineDeps, signal: AbortSignal = ctx.signal): Promise<LinuxGuest> {
  const { request } = ctx.job;
  const account = await deps.accounts.forConnection(ctx.job.runAsAccountId, ctx);
  if (account.osFamily !== 'linux') {
    throw new PushError(Codes.LinuxCredentials, { reason: `run-as account "${account.name}" is a ${account.osFamily} account` });
  }
  const port = request.port ?? 22;
  const policy = request.hostKeyPolicy ?? deps.settings.hostKeyPolicy;
  ctx.log(`connecting to ${request.address}:${port} over SSH as ${account.username} (host key policy ${policy})`);
  let channel: CommandChannel & FileChannel;
  try {
    channel = await deps.connectSsh({
      host: request.address,
      port,
      credentials: credentialsOf(account),
      connectTimeoutMs: deps.settings.connectTimeoutMs,
      verifyHostKey: deps.hostKeys.verifier(request.address, port, policy, (l) => ctx.log(l)),
      authFailureCode: Codes.LinuxCredentials,
      signal,
    });
  } catch (e) {
    if (e instanceof PushError && e.code === Codes.LinuxCredentials && e.details.phase === 'connect') {
      const suspended = await deps.accounts.recordAuthFailure(account.id);
      if (suspended) ctx.log(`run-as account "${account.name}" suspended after repeated authentication failures`);
    }
    throw e;
  }
  await deps.accounts.recordAuthSuccess(account.id);
  const guest = new LinuxGuest(channel, channel, {
    useSudo: account.useSudo,
    confirmRoot: !account.useSudo,
    username: account.username,
    signal,
    timeoutMs: deps.settings.stepTimeoutMs,
    log: (l) => ctx.log(l),
  });
  try {
    if (account.useSudo) await checkSudo(guest);
  } catch (e) {
    await guest.close();
    throw e;
  }
  ctx.log(`connected to ${request.address}:${port}${account.useSudo ? ' (privileged commands via sudo -n)' : ''}`);
  return guest;
}
