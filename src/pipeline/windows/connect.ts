import type { AccountSecrets, RunAsAccount } from '../../accounts/accounts.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { redactor } from '../../logging/redactor.ts';
import type { CommandChannel, FileChannel } from '../../transports/transport.ts';
import type { JobContext } from '../context.ts';
import type { PipelineDeps } from '../deps.ts';
import { TOKEN_FILTER_POLICY } from './commands.ts';
import { WindowsGuest } from './windows-guest.ts';

type Account = RunAsAccount & { secrets: AccountSecrets };

/** Counts a refused logon towards the account's lockout guard (never lock a real account out: 95520). */
async function countAuthFailure(ctx: JobContext, deps: PipelineDeps, account: Account, e: unknown): Promise<void> {
  if (e instanceof PushError && e.code === Codes.WindowsCredentials) {
    const suspended = await deps.accounts.recordAuthFailure(account.id);
    if (suspended) ctx.log(`run-as account "${account.name}" suspended after repeated authentication failures`);
  }
}

function displayAccount(account: Account): string {
  return `${account.domain ?? '.'}\\${account.username}`;
}

/** The built-in Administrator (RID 500) in the display languages we know: remote UAC does not filter it. */
const BUILTIN_ADMINISTRATOR = /^(administrator|administrateur|administrador|amministratore)$/i;

/**
 * Remote UAC: a local administrator other than the built-in one gets a filtered token on a network logon
 * unless LocalAccountTokenFilterPolicy is 1, and Windows refuses that token the administrative share C$
 * (STATUS_ACCESS_DENIED on the tree connect) before any command runs. That is 95107 with the policy as
 * the fix, not 95517 ("denied while copying"); a domain account or the built-in Administrator refused
 * C$ keeps 95517. (A local account given as COMPUTER\user looks like a domain one here: it keeps 95517.)
 */
function remoteUacError(e: unknown, account: Account): PushError | undefined {
  if (!(e instanceof PushError) || e.code !== Codes.AccessDenied || e.details.ntStatus !== 'STATUS_ACCESS_DENIED') return undefined;
  const local = account.domain === undefined || account.domain === '' || account.domain === '.';
  if (!local || BUILTIN_ADMINISTRATOR.test(account.username)) return undefined;
  return new PushError(Codes.WindowsCredentials, {
    ...e.details,
    reason: `the machine refused the local account ${displayAccount(account)} the administrative share C$ (STATUS_ACCESS_DENIED on tree connect): remote UAC gives a local administrator other than the built-in one a filtered token on network logons`,
    hint: `Set ${TOKEN_FILTER_POLICY} on the machine, or use a domain administrator or the built-in Administrator.`,
  }, { cause: e, message: 'The run-as account does not have administrator rights on the machine over the network (remote UAC).' });
}

/** Maps a failure to open the command channel: refused or unreachable is 95103 ("remote execution blocked"). */
function execChannelError(e: unknown, signal: AbortSignal, what: string): PushError {
  if (signal.aborted) return new PushError(Codes.Cancelled);
  if (e instanceof PushError) {
    if (e.code === Codes.Unreachable && e.details.errno === 'ECONNREFUSED') {
      return new PushError(Codes.RemoteExecBlocked, { ...e.details, channel: what }, { cause: e });
    }
    return e;
  }
  return new PushError(Codes.RemoteExecBlocked, { channel: what, cause: redactor.redact((e as Error)?.message ?? String(e)) }, { cause: e });
}

async function connectOverSsh(ctx: JobContext, deps: PipelineDeps, account: Account, signal: AbortSignal): Promise<WindowsGuest> {
  const { request } = ctx.job;
  const port = request.port ?? 22;
  const policy = request.hostKeyPolicy ?? deps.settings.hostKeyPolicy;
  // Win32-OpenSSH: a local account by its bare name, a domain account as DOMAIN\user.
  const username = !account.domain || account.domain === '.' ? account.username : `${account.domain}\\${account.username}`;
  ctx.log(`connecting to ${request.address}:${port} over OpenSSH as ${displayAccount(account)} (host key policy ${policy}); files over SFTP`);
  let channel: CommandChannel & FileChannel;
  try {
    channel = await deps.connectSsh({
      host: request.address,
      port,
      credentials: { username, password: account.secrets.password as string },
      connectTimeoutMs: deps.settings.connectTimeoutMs,
      verifyHostKey: deps.hostKeys.verifier(request.address, port, policy, (l) => ctx.log(l)),
      authFailureCode: Codes.WindowsCredentials,
      signal,
    });
  } catch (e) {
    await countAuthFailure(ctx, deps, account, e);
    throw execChannelError(e, signal, `OpenSSH on port ${port}`);
  }
  await deps.accounts.recordAuthSuccess(account.id);
  return new WindowsGuest(channel, channel, 'ssh', { signal, timeoutMs: deps.settings.stepTimeoutMs, log: (l) => ctx.log(l), account: displayAccount(account) });
}

/**
 * Opens the two channels to a Windows guest (guest-contract.md, Windows steps 1 and 2): the SMB session
 * to `\\<address>\C$`, then the WinRM shell (HTTP 5985 with NTLM message encryption, or HTTPS 5986 with
 * the certificate pinned on first use); or, with windowsTransport "ssh", one OpenSSH connection for
 * both commands and files. Logon failures count towards the account's lockout guard.
 */
export async function connectWindowsGuest(ctx: JobContext, deps: PipelineDeps, signal: AbortSignal = ctx.signal): Promise<WindowsGuest> {
  const { request } = ctx.job;
  const account = await deps.accounts.forConnection(ctx.job.runAsAccountId, ctx);
  if (account.osFamily !== 'windows') {
    throw new PushError(Codes.WindowsCredentials, { reason: `run-as account "${account.name}" is a ${account.osFamily} account` });
  }
  if (account.secrets.password === undefined) {
    throw new PushError(Codes.WindowsCredentials, { reason: `run-as account "${account.name}" has no password (Windows logons need one)` });
  }
  const transport = request.windowsTransport ?? 'winrm-http';
  if (transport === 'ssh') return connectOverSsh(ctx, deps, account, signal);

  return connectOverWinrm(ctx, deps, account, transport === 'winrm-https', signal);
}

/** The SMB session for files, then the WinRM shell for commands. */
async function connectOverWinrm(ctx: JobContext, deps: PipelineDeps, account: Account, https: boolean, signal: AbortSignal): Promise<WindowsGuest> {
  const { request } = ctx.job;
  const password = account.secrets.password as string;
  const smbPort = request.smbPort ?? 445;
  ctx.log(`connecting to ${request.address} over SMB (port ${smbPort}) as ${displayAccount(account)}`);
  let files: FileChannel;
  try {
    files = await deps.connectSmbFiles({
      host: request.address, port: smbPort, username: account.username, password, domain: account.domain ?? '.',
      timeoutMs: deps.settings.connectTimeoutMs, signal,
    });
  } catch (e) {
    await countAuthFailure(ctx, deps, account, e);
    throw remoteUacError(e, account) ?? e;
  }
  ctx.log(`SMB session up (${files.description})`);

  const port = request.port ?? (https ? 5986 : 5985);
  const what = `WinRM ${https ? 'HTTPS' : 'HTTP'} on port ${port}`;
  let shell: CommandChannel;
  try {
    if (!deps.connectWinrm) throw new PushError(Codes.RemoteExecBlocked, { channel: what, reason: 'this build of pushinstalld has no WinRM client' });
    ctx.log(`connecting to ${request.address}:${port} over ${what}${https ? '' : ' (NTLM message encryption)'}`);
    const policy = request.hostKeyPolicy ?? deps.settings.hostKeyPolicy;
    shell = await deps.connectWinrm({
      host: request.address,
      port,
      transport: https ? 'https' : 'http',
      username: account.username,
      password,
      domain: account.domain ?? '.',
      timeoutMs: deps.settings.connectTimeoutMs,
      signal,
      ...(https && request.winrmTls !== undefined ? { winrmTls: request.winrmTls } : {}),
      ...(https && deps.tlsPins ? { verifyCertificate: deps.tlsPins.verifier(request.address, port, policy, (l) => ctx.log(l)) } : {}),
    });
  } catch (e) {
    await files.close();
    await countAuthFailure(ctx, deps, account, e);
    throw execChannelError(e, signal, what);
  }
  await deps.accounts.recordAuthSuccess(account.id);
  const opts = { signal, timeoutMs: deps.settings.stepTimeoutMs, log: (l: string) => ctx.log(l), account: displayAccount(account) };
  return new WindowsGuest(shell, files, https ? 'winrm-https' : 'winrm-http', opts);
}
