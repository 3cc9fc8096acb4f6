import type { AccountSecrets, RunAsAccount } from '../accounts/accounts.ts';
import type { HostKeyPolicy } from '../jobs/types.ts';
import type { GuestChannel } from '../transports/transport.ts';
import type { SshConnectOptions } from '../transports/ssh/ssh-channel.ts';

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
  repository: { select(osTag: string): Promise<SelectedInstaller> };
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
}
