import type { AccountSecrets, RunAsAccount } from '../accounts/accounts.ts';
import type { HostKeyPolicy } from '../domain/os.ts';
import type { GuestChannel } from '../transports/transport.ts';
import type { SshConnectOptions } from '../transports/ssh/ssh-channel.ts';
import type { SmbClient, SmbConnectOptions } from '../transports/smb/index.ts';

export interface SelectedInstaller {
  file: string;
  path: string;
  osTag: string;
  version: string;
  size: number;
  sha256: string;
}

/** A command shell on a Windows guest (WinRM/WinRS): cmd.exe command lines, exit code and output. */
export interface RemoteShell {
  exec(commandLine: string, options?: { stdin?: string | Buffer; signal?: AbortSignal; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export interface WinrmConnectOptions {
  host: string;
  port: number;
  transport: 'http' | 'https';
  username: string;
  password: string;
  /** NetBIOS/DNS domain, or '.' for an account local to the guest. */
  domain: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** HTTPS: called with the server certificate's SHA-256 fingerprint; throws (99024) to refuse it. */
  verifyCertificate?: (fingerprint: string) => Promise<void>;
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
    forConnection(id: string): Promise<RunAsAccount & { secrets: AccountSecrets }>;
    recordAuthFailure(id: string): Promise<boolean>;
    recordAuthSuccess(id: string): Promise<void>;
  };
  hostKeys: {
    /** A verifier for the SSH handshake of one guest, enforcing the policy. */
    verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): (fingerprint: string, keyType: string) => Promise<void>;
  };
  connectSsh(options: SshConnectOptions): Promise<GuestChannel>;
  /** Windows: the SMB session to the admin share (default SmbClient.connect). */
  connectSmb?(options: SmbConnectOptions): Promise<SmbClient>;
  /** Windows: WinRM (src/transports/winrm); absent in builds without it (then WinRM jobs fail with 95103). */
  connectWinrm?(options: WinrmConnectOptions): Promise<RemoteShell>;
  /** WinRM HTTPS certificate pins (trust on first use, like SSH host keys). */
  tlsPins?: {
    verifier(address: string, port: number, policy: HostKeyPolicy, log: (line: string) => void): (fingerprint: string) => Promise<void>;
  };
}
