// The simulated registry of a Windows guest: kept in the test process, outside the C: folder (as the
// real registry is not a file the SMB share exposes). `reg query` answers are formatted as reg.exe
// prints them, so the pipeline's parser reads the same text it would read on Windows.

export interface RegEntry { name: string; type: string; data: string }

interface Key { path: string; values: Map<string, RegEntry> }

const HIVES: Record<string, string> = { hklm: 'HKEY_LOCAL_MACHINE', hkcu: 'HKEY_CURRENT_USER', hkcr: 'HKEY_CLASSES_ROOT', hku: 'HKEY_USERS' };

/** `HKLM\Software\X` → `HKEY_LOCAL_MACHINE\Software\X` (the display form); null if not a registry path. */
export function normaliseKey(key: string): string | null {
  const parts = key.replace(/\\+$/, '').split('\\');
  const hive = parts[0]?.toLowerCase() ?? '';
  const full = HIVES[hive] ?? Object.values(HIVES).find((h) => h.toLowerCase() === hive);
  if (!full || parts.slice(1).some((p) => p === '')) return null;
  return [full, ...parts.slice(1)].join('\\');
}

export class Registry {
  private readonly keys = new Map<string, Key>();

  private key(path: string, create: boolean): Key | undefined {
    const display = normaliseKey(path);
    if (!display) throw new Error(`not a registry key: ${path}`);
    let k = this.keys.get(display.toLowerCase());
    if (!k && create) {
      k = { path: display, values: new Map() };
      this.keys.set(display.toLowerCase(), k);
    }
    return k;
  }

  set(keyPath: string, name: string, data: string | number, type?: string): void {
    const k = this.key(keyPath, true) as Key;
    const t = type ?? (typeof data === 'number' ? 'REG_DWORD' : 'REG_SZ');
    const text = typeof data === 'number' ? `0x${data.toString(16)}` : data;
    k.values.set(name.toLowerCase(), { name, type: t, data: text });
  }

  get(keyPath: string, name: string): string | undefined {
    return this.key(keyPath, false)?.values.get(name.toLowerCase())?.data;
  }

  hasKey(keyPath: string): boolean {
    return this.key(keyPath, false) !== undefined;
  }

  /** Deletes a key and its subkeys. */
  deleteKey(keyPath: string): void {
    const display = (normaliseKey(keyPath) as string).toLowerCase();
    for (const id of [...this.keys.keys()]) if (id === display || id.startsWith(`${display}\\`)) this.keys.delete(id);
  }

  /** reg.exe query: exit code and output as reg.exe prints them (CRLF, 4-space columns). */
  query(keyPath: string, value?: string): { exitCode: number; stdout: string; stderr: string } {
    const notFound = { exitCode: 1, stdout: '', stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' };
    const display = normaliseKey(keyPath);
    if (!display) return { exitCode: 1, stdout: '', stderr: 'ERROR: Invalid key name.\r\nType "REG QUERY /?" for usage.\r\n' };
    const k = this.keys.get(display.toLowerCase());
    const subkeys = [...this.keys.values()]
      .map((x) => x.path)
      .filter((p) => p.toLowerCase().startsWith(`${display.toLowerCase()}\\`) && !p.slice(display.length + 1).includes('\\'));
    if (!k && subkeys.length === 0) return notFound;
    const line = (e: RegEntry) => `    ${e.name}    ${e.type}    ${e.data}`;
    if (value !== undefined) {
      const e = k?.values.get(value.toLowerCase());
      if (!e) return notFound;
      return { exitCode: 0, stdout: `\r\n${display}\r\n${line(e)}\r\n\r\n`, stderr: '' };
    }
    const values = [...(k?.values.values() ?? [])].map(line);
    const out = ['', display, ...values, ''];
    if (subkeys.length > 0) out.push(...subkeys.sort(), '');
    return { exitCode: 0, stdout: out.join('\r\n') + '\r\n', stderr: '' };
  }
}
