import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type TokenRole = 'admin' | 'portal' | 'operator';
export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'portal', 'operator'];

export interface TokenEntry {
  name: string;
  role: TokenRole;
  sha256: string;
  createdAt?: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newToken(): string {
  return `pit_${randomBytes(32).toString('base64url')}`;
}

function readFile(file: string): TokenEntry[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { tokens?: unknown };
  if (!Array.isArray(parsed.tokens)) throw new Error(`API_TOKENS_FILE ${file}: expected { "tokens": [...] }`);
  return parsed.tokens.map((t: unknown, i: number) => {
    const e = t as Partial<TokenEntry>;
    if (typeof e.name !== 'string' || !TOKEN_ROLES.includes(e.role as TokenRole) || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      throw new Error(`API_TOKENS_FILE ${file}: tokens[${i}] needs name, role (admin|portal|operator) and sha256 (64 hex)`);
    }
    return e as TokenEntry;
  });
}

function writeFile(file: string, tokens: TokenEntry[]): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ tokens }, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * API tokens, stored as SHA-256 hashes only. The file is re-read when it changes, so tokens added or
 * revoked with the CLI apply without a restart.
 */
export class TokenStore {
  private byHash = new Map<string, TokenEntry>();
  private mtimeMs = -1;

  constructor(private readonly file: string) {}

  /** Creates the file with one admin token when it does not exist; returns that token (to print once). */
  ensure(): string | null {
    if (existsSync(this.file)) { this.reload(); return null; }
    const token = newToken();
    writeFile(this.file, [{ name: 'admin', role: 'admin', sha256: hashToken(token), createdAt: new Date().toISOString() }]);
    this.reload();
    return token;
  }

  private reload(): void {
    const st = statSync(this.file);
    if (st.mtimeMs === this.mtimeMs) return;
    this.byHash = new Map(readFile(this.file).map((t) => [t.sha256, t]));
    this.mtimeMs = st.mtimeMs;
  }

  lookup(token: string): TokenEntry | null {
    try { this.reload(); } catch { /* keep the last good set */ }
    return this.byHash.get(hashToken(token)) ?? null;
  }

  list(): TokenEntry[] {
    return readFile(this.file);
  }

  /** Adds a token and returns it in clear (the only time it exists in clear). */
  add(name: string, role: TokenRole): string {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new Error('token name: 1-64 letters, digits, . _ -');
    if (!TOKEN_ROLES.includes(role)) throw new Error(`token role must be one of ${TOKEN_ROLES.join(', ')}`);
    const tokens = existsSync(this.file) ? readFile(this.file) : [];
    if (tokens.some((t) => t.name === name)) throw new Error(`a token named ${name} exists; revoke it first`);
    const token = newToken();
    tokens.push({ name, role, sha256: hashToken(token), createdAt: new Date().toISOString() });
    writeFile(this.file, tokens);
    return token;
  }

  revoke(name: string): boolean {
    const tokens = readFile(this.file);
    const kept = tokens.filter((t) => t.name !== name);
    if (kept.length === tokens.length) return false;
    writeFile(this.file, kept);
    return true;
  }
}
