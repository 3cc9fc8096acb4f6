// Runs Debian's pywinrm (python3-winrm: pywinrm 0.3.0, requests_ntlm, ntlm-auth) as the independent
// party of the WinRM cross-checks. Debian 12's OpenSSL 3 has MD4 only in its legacy provider, and
// ntlm-auth computes the NT hash with hashlib's md4: the child gets an OPENSSL_CONF that loads it.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export const PYTHON = '/usr/bin/python3';
const HERE = path.dirname(new URL(import.meta.url).pathname);

const OPENSSL_LEGACY = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`;

/** Writes the OpenSSL config into `dir` and returns the environment for a pywinrm child. */
export async function pythonEnv(dir: string, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const conf = path.join(dir, 'openssl-legacy.cnf');
  await writeFile(conf, OPENSSL_LEGACY);
  // Debian's interpreter and packages only: no user site, no proxies between us and the lab server.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', OPENSSL_CONF: conf, PYTHONNOUSERSITE: '1', NO_PROXY: '*', ...extra };
}

export interface PyResult {
  ok: boolean;
  status_code?: number;
  stdout?: string;
  stderr?: string;
  error?: string;
  message?: string;
}

export interface PyRequest {
  url: string;
  username: string;
  message_encryption?: 'always' | 'never' | 'auto';
  operation_timeout_sec?: number;
  read_timeout_sec?: number;
  commands: Array<{ command: string; args?: string[] }>;
}

/** Runs pywinrm-client.py; the password travels in the environment, not on argv. */
export function runPywinrm(request: PyRequest, password: string, env: NodeJS.ProcessEnv): Promise<PyResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(HERE, 'pywinrm-client.py')], { env: { ...env, WINRM_PASSWORD: password } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) { reject(new Error(`pywinrm-client.py exited ${code}: ${err}`)); return; }
      resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as PyResult));
    });
    child.stdin.end(JSON.stringify(request));
  });
}

export function b64(s: string | undefined): string {
  return Buffer.from(s ?? '', 'base64').toString('utf8');
}
