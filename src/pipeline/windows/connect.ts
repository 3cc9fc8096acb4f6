import type { SFTPWrapper } from 'ssh2';
import type { AccountSecrets, RunAsAccount } from '../../accounts/accounts.ts';
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';
import { redactor } from '../../logging/redactor.ts';
import { SmbClient, type SmbConnectOptions } from '../../transports/smb/index.ts';
import type { GuestChannel } from '../../transports/transport.ts';
import type { JobContext } from '../context.ts';
import type { PipelineDeps, RemoteShell } from '../deps.ts';
import { tail } from '../linux/linux-guest.ts';
import { parseDirFreeBytes, windowsCommands } from './commands.ts';
import { SftpFiles, SmbFiles, splitWindowsPath } from './files.ts';
import { smbToPushError } from './smb-errors.ts';
import { WindowsGuest } from './windows-guest.ts';

type Account = RunAsAccount & { secrets: AccountSecrets };

export const ADMIN_SHARE = 'C$';

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

async function openSmb(ctx: JobContext, deps: PipelineDeps, account: Account, share: string, signal: AbortSignal): Promise<SmbClient> {
  const { request } = ctx.job;
  const options: SmbConnectOptions = {
    host: request.address,
    port: request.smbPort ?? 445,
    share,
    username: account.username,
    password: account.secrets.password as string,
    domain: account.domain ?? '.',
    timeoutMs: deps.settings.connectTimeoutMs,
    signal,
  };
  try {
    return await (deps.connectSmb ?? SmbClient.connect)(options);
  } catch (e) {
    throw smbToPushError(e, 'connect', signal);
  }
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

function hasSftp(channel: GuestChannel): channel is GuestChannel & { sftp(): Promise<SFTPWrapper> } {
  return typeof (channel as { sftp?: unknown }).sftp === 'function';
}

async function connectOverSsh(ctx: JobContext, deps: PipelineDeps, account: Account, signal: AbortSignal): Promise<WindowsGuest> {
  const { request } = ctx.job;
  const port = request.port ?? 22;
  const policy = request.hostKeyPolicy ?? deps.settings.hostKeyPolicy;
  // Win32-OpenSSH: a local account by its bare name, a domain account as DOMAIN\user.
  const username = !account.domain || account.domain === '.' ? account.username : `${account.domain}\\${account.username}`;
  ctx.log(`connecting to ${request.address}:${port} over OpenSSH as ${displayAccount(account)} (host key policy ${policy}); files over SFTP`);
  let channel: GuestChannel;
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
  if (!hasSftp(channel)) {
    await channel.close();
    throw new PushError(Codes.Internal, { reason: 'the SSH channel offers no SFTP session' });
  }
  const sftp = await channel.sftp();
  const timeoutMs = deps.settings.stepTimeoutMs;
  const files = new SftpFiles(channel, sftp, {
    signal,
    timeoutMs,
    freeBytes: async (path) => {
      const command = windowsCommands.freeBytes(`${splitWindowsPath(path).drive}:`);
      ctx.log(`> ${command}`);
      const res = await channel.exec(command, { signal, timeoutMs });
      const free = res.code === 0 ? parseDirFreeBytes(res.stdout) : null;
      if (free === null) throw new PushError(Codes.CommandFailed, { what: `free space of ${path}`, exitCode: res.code, stdout: tail(res.stdout, 5), stderr: tail(res.stderr, 5) });
      return free;
    },
  });
  await deps.accounts.recordAuthSuccess(account.id);
  const shell: RemoteShell = channel;
  return new WindowsGuest(shell, files, 'ssh', { signal, timeoutMs, log: (l) => ctx.log(l), account: displayAccount(account) });
}

/**
 * Opens the two channels to a Windows guest (guest-contract.md, Windows steps 1 and 2): the SMB session
 * to `\\<address>\C$`, then the WinRM shell (HTTP 5985 with NTLM message encryption, or HTTPS 5986 with
 * the certificate pinned on first use); or, with windowsTransport "ssh", one OpenSSH connection for
 * both commands and files. Logon failures count towards the account's lockout guard.
 */
export async function connectWindowsGuest(ctx: JobContext, deps: PipelineDeps, signal: AbortSignal = ctx.signal): Promise<WindowsGuest> {
  const { request } = ctx.job;
  const account = await deps.accounts.forConnection(ctx.job.runAsAccountId);
  if (account.osFamily !== 'windows') {
    throw new PushError(Codes.WindowsCredentials, { reason: `run-as account "${account.name}" is a ${account.osFamily} account` });
  }
  if (account.secrets.password === undefined) {
    throw new PushError(Codes.WindowsCredentials, { reason: `run-as account "${account.name}" has no password (Windows logons need one)` });
  }
  const transport = request.windowsTransport ?? 'winrm-http';
  if (transport === 'ssh') return connectOverSsh(ctx, deps, account, signal);

  ctx.log(`connecting to \\\\${request.address}\\${ADMIN_SHARE} (SMB port ${request.smbPort ?? 445}) as ${displayAccount(account)}`);
  let smb: SmbClient;
  try {
    smb = await openSmb(ctx, deps, account, ADMIN_SHARE, signal);
  } catch (e) {
    await countAuthFailure(ctx, deps, account, e);
    throw e;
  }
  ctx.log(`SMB session up (dialect 0x${smb.dialect.toString(16)}${smb.encrypted ? ', encrypted' : smb.signed ? ', signed' : ''})`);

  const https = transport === 'winrm-https';
  const port = request.port ?? (https ? 5986 : 5985);
  const what = `WinRM ${https ? 'HTTPS' : 'HTTP'} on port ${port}`;
  let shell: RemoteShell;
  try {
    if (!deps.connectWinrm) throw new PushError(Codes.RemoteExecBlocked, { channel: what, reason: 'this build of pushinstalld has no WinRM client' });
    ctx.log(`connecting to ${request.address}:${port} over ${what}${https ? '' : ' (NTLM message encryption)'}`);
    const policy = request.hostKeyPolicy ?? deps.settings.hostKeyPolicy;
    shell = await deps.connectWinrm({
      host: request.address,
      port,
      transport: https ? 'https' : 'http',
      username: account.username,
      password: account.secrets.password,
      domain: account.domain ?? '.',
      timeoutMs: deps.settings.connectTimeoutMs,
      signal,
      ...(https && deps.tlsPins ? { verifyCertificate: deps.tlsPins.verifier(request.address, port, policy, (l) => ctx.log(l)) } : {}),
    });
  } catch (e) {
    await smb.close();
    await countAuthFailure(ctx, deps, account, e);
    throw execChannelError(e, signal, what);
  }
  await deps.accounts.recordAuthSuccess(account.id);
  const timeoutMs = deps.settings.stepTimeoutMs;
  const files = new SmbFiles(smb, { signal, timeoutMs, openShare: (share) => openSmb(ctx, deps, account, share, signal) });
  return new WindowsGuest(shell, files, transport, { signal, timeoutMs, log: (l) => ctx.log(l), account: displayAccount(account) });
}
