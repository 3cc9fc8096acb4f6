import type { AccountSecrets, RunAsAccount } from '../accounts/accounts.ts';
import type { HostKeyPolicy } from '../domain/os.ts';
import type { CommandChannel, FileChannel, SmbFilesOptions, SshConnectOptions, WinrmConnectOptions } from '../transports/transport.ts';

export interface SelectedInstaller {
  file: string;
  path: string;
  osTag: string;
  version: string;
  size: number;
  sha256: string;
}

/** What the pipeline needs from the rest of the daemon, as narrow interfaces (the worker wires them). */
export interface PipelineDeps {
  settings: {
    csEndpoint: string | undefined;
    csPassphraseFile: string | undefined;
    csVersion: string | undefined;
    connectTimeoutMs: number;
    stepTimeoutMs: number;
    processServerId: string;
    hostKeyPolicy: HostKeyPolicy;
  };
  repository: {
    select(osTag: string): Promise<SelectedInstaller>;
    /** Every installer the repository offers (for updates in steps). */
    installers(): SelectedInstaller[];
  };
  accounts: {
    /** The secrets stay masked in every output until `scope` (the job) ends. */
    forConnection(id: string, scope: { onEnd(release: () => void): void }): Promise<RunAsAccount & { secrets: AccountSecrets }>;
    recordAuthFailure(id: string): Promise<boolean>;
    recordAuthSuccess(id: string): Promise<void>;
  };
  hostKeys: {
    /** A verifier for the SSH handshake of one guest, enforcing the policy. */
    verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): (fingerprint: string, keyType: string) => Promise<void>;
  };
  // The transports, as the channels a guest is composed of (the daemon wires the implementations); each
  // reports its failures as PushErrors of the catalogue.
  /** Linux, and Windows over OpenSSH: commands and files (SFTP) over one connection. */
  connectSsh(options: SshConnectOptions): Promise<CommandChannel & FileChannel>;
  /** Windows with WinRM: files through the admin share C$. */
  connectSmbFiles(options: SmbFilesOptions): Promise<FileChannel>;
  /** Windows: WinRM commands; absent in builds without it (then WinRM jobs fail with 95103). */
  connectWinrm?(options: WinrmConnectOptions): Promise<CommandChannel>;
  /** WinRM HTTPS certificate pins (trust on first use, like SSH host keys). */
  tlsPins?: {
    verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): (fingerprint: string) => Promise<void>;
  };
}
