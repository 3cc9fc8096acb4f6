// The transport side of the guest channels, without a guest: the path forms each file channel sends
// (SFTP, the C$ share) and SMB failures as catalogue errors; and the pipeline composing a guest from
// fake channels, which is what the interfaces are for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Codes } from '../../src/errors/catalogue.ts';
import { PushError } from '../../src/errors/push-error.ts';
import { WindowsGuest } from '../../src/pipeline/windows/windows-guest.ts';
import { SmbError, NtStatus, smbToPushError } from '../../src/transports/smb/index.ts';
import { sftpPath } from '../../src/transports/ssh/sftp.ts';
import type { CommandChannel, ExecResult, FileChannel } from '../../src/transports/transport.ts';
import { isWindowsPath, splitWindowsPath } from '../../src/transports/windows-path.ts';

describe('guest paths on the wire', () => {
  it('SFTP: POSIX paths unchanged, Windows paths in the /C:/ form of Win32-OpenSSH', () => {
    assert.equal(sftpPath('/tmp/pushinstall-x/a.tar.gz'), '/tmp/pushinstall-x/a.tar.gz');
    assert.equal(sftpPath('C:\\Windows\\Temp\\pushinstall-x\\a.exe'), '/C:/Windows/Temp/pushinstall-x/a.exe');
    assert.equal(sftpPath('d:\\'), '/D:/');
  });
  it('Windows paths split into drive and the rest; anything else is an internal error', () => {
    assert.deepEqual(splitWindowsPath('C:\\Windows\\Temp\\'), { drive: 'C', rest: 'Windows\\Temp' });
    assert.equal(isWindowsPath('/C:/x'), false);
    assert.throws(() => splitWindowsPath('/tmp/x'), (e: unknown) => e instanceof PushError && e.code === Codes.Internal);
  });
});

describe('SMB failures as catalogue errors', () => {
  const refused = () => new SmbError('SMB server unreachable', { ntStatusName: 'ECONNRESET', asrCode: 95117, transient: true });
  it('unreachable while connecting; connection lost (retried) once the session was up', () => {
    assert.equal(smbToPushError(refused(), 'connect').code, Codes.Unreachable);
    const lost = smbToPushError(refused(), 'copy to C:\\x');
    assert.equal(lost.code, Codes.ConnectionLost);
    assert.equal(lost.retryable, true);
  });
  it('the NTSTATUS decides the code of a refusal; a cancelled job stays cancelled', () => {
    assert.equal(smbToPushError(SmbError.fromStatus(NtStatus.LOGON_FAILURE, 'logon'), 'connect').code, Codes.WindowsCredentials);
    assert.equal(smbToPushError(SmbError.fromStatus(NtStatus.ACCESS_DENIED, 'open'), 'write C:\\x').code, Codes.AccessDenied);
    assert.equal(smbToPushError(refused(), 'read C:\\x', AbortSignal.abort()).code, Codes.Cancelled);
  });
});

/** One fake connection for both commands and files (as over SSH), recording what it was asked. */
function fakeSsh(dirOutput: string): CommandChannel & FileChannel & { calls: string[] } {
  const calls: string[] = [];
  const none = async (): Promise<void> => undefined;
  return {
    calls, protocol: 'sftp', description: '',
    reaches: () => true,
    exec: async (command: string): Promise<ExecResult> => { calls.push(`exec ${command}`); return { code: 0, stdout: dirOutput, stderr: '' }; },
    put: none, writeFile: none, mkdirp: none, remove: none, removeTree: none,
    readFile: async () => Buffer.alloc(0),
    exists: async (p: string) => { calls.push(`exists ${p}`); return true; },
    close: async () => { calls.push('close'); },
  };
}

describe('a guest composed from channels', () => {
  const opts = { signal: new AbortController().signal, timeoutMs: 1000, log: () => undefined, account: '.\\admin' };
  it('without free space from its file channel, a Windows guest reads it from dir; one connection closes once', async () => {
    const ssh = fakeSsh(' Volume in drive C has no label.\r\n               3 Dir(s)     52613349376 bytes free\r\n');
    const guest = new WindowsGuest(ssh, ssh, 'ssh', opts);
    assert.equal(await guest.freeBytes('C:\\Windows\\Temp\\pushinstall-x'), 52613349376);
    assert.equal(await guest.exists('C:\\Windows\\Temp'), true);
    await guest.close();
    assert.deepEqual(ssh.calls, ['exec dir /-c "C:"', 'exists C:\\Windows\\Temp', 'close']);
  });
  it('a file channel that can tell the free space is asked instead', async () => {
    const shell = fakeSsh('');
    const files = { ...fakeSsh(''), protocol: 'smb', freeBytes: async () => 7 };
    const guest = new WindowsGuest(shell, files, 'winrm-http', opts);
    assert.equal(await guest.freeBytes('C:\\'), 7);
    assert.deepEqual(shell.calls, []);
  });
});
