// Helpers of the security end-to-end tests: record every API response, read the Redis AOF, spell out
// the forms a secret leaks in, generate SSH keys.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { TestDaemon } from '../lab/daemon.ts';
import { must } from '../lab/exec.ts';
import { until } from './fixtures.ts';

/** Keeps the text of every API response the test gets from now on (for the secret scans). */
export function recordApiResponses(d: TestDaemon): string[] {
  const texts: string[] = [];
  d.observe((method, route, res) => texts.push(`${method} ${route} → ${res.status}\n${JSON.stringify(Object.fromEntries(res.headers))}\n${res.text}`));
  return texts;
}

/** The forms a secret typically leaks in: raw, base64 (padded or not), base64url, URL and form encoded, JSON escaped. */
export function secretForms(secret: string): string[] {
  const b64 = Buffer.from(secret).toString('base64');
  const forms = new Set([
    secret, b64, b64.replace(/=+$/, ''), Buffer.from(secret).toString('base64url'),
    encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+'), JSON.stringify(secret).slice(1, -1),
  ]);
  // A private key: each line of its body too.
  for (const line of secret.split('\n')) if (line.trim().length >= 16 && !line.startsWith('-----')) forms.add(line.trim());
  return [...forms];
}

/** Throws naming the place and the form when any form of any secret occurs in any text. */
export function assertNoSecrets(places: Record<string, string>, secrets: Record<string, string>): void {
  for (const [where, text] of Object.entries(places)) {
    for (const [name, secret] of Object.entries(secrets)) {
      for (const form of secretForms(secret)) {
        if (text.includes(form)) {
          const at = text.indexOf(form);
          throw new Error(`secret "${name}" (form ${JSON.stringify(form.slice(0, 12))}…) found in ${where}: …${text.slice(Math.max(0, at - 80), at)}[SECRET]…`);
        }
      }
    }
  }
}

/**
 * The whole append-only file of the lab Redis (Redis 7: `appendonlydir/` with a manifest naming a base
 * and incremental files), read after a marker written last has reached it, so every earlier command is
 * in it too.
 */
export async function readAof(redis: Redis, redisDir: string): Promise<{ text: string; files: string[] }> {
  const dirName = String((await redis.config('GET', 'appenddirname'))[1] ?? 'appendonlydir');
  const aofDir = path.join(redisDir, dirName);
  const marker = `aof-marker-${randomUUID()}`;
  await redis.set('pi:test:aof-marker', marker);
  const read = () => {
    const manifest = readdirSync(aofDir).find((f) => f.endsWith('.manifest'));
    if (!manifest) return undefined;
    const files = readFileSync(path.join(aofDir, manifest), 'utf8').split('\n')
      .map((l) => /^file (\S+) /.exec(l)?.[1]).filter((f): f is string => f !== undefined);
    const text = files.map((f) => readFileSync(path.join(aofDir, f)).toString('latin1')).join('\n');
    return text.includes(marker) ? { text, files } : undefined;
  };
  return until('the AOF to hold the marker', async () => read(), 10_000);
}

/** An ed25519 key pair made by ssh-keygen, the private key encrypted with `passphrase`. */
export async function generateSshKey(passphrase: string): Promise<{ privateKey: string; publicKey: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pi-sshkey-'));
  try {
    const file = path.join(dir, 'id_ed25519');
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'pushinstalld-test', '-f', file]);
    return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every job log line of the given jobs, through the API. */
export async function jobLogs(d: TestDaemon, ids: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of ids) out[`job log ${id}`] = await d.client.jobLog(id);
  return out;
}
