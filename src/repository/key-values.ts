/**
 * Parses KEY=value pairs as found in /etc/os-release, /etc/lsb-release and /etc/SuSE-release
 * ("VERSION = 11"), one per line or several on one line; quotes are removed. Keys are upper-cased.
 */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*("[^"\n]*"|'[^'\n]*'|[^\s"']\S*|(?=\s|$))/g;
  for (const m of text.matchAll(re)) {
    const key = (m[1] ?? '').toUpperCase();
    let value = m[2] ?? '';
    if (value.length >= 2 && (value.startsWith('"') || value.startsWith("'"))) value = value.slice(1, -1);
    value = value.replace(/\\(["'$`\\])/g, '$1').trim();
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}
