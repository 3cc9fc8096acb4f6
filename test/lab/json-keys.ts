// JSON.parse keeps the last of two equal keys silently; log collectors differ. This finds them.

/** The keys that appear twice in one object of a JSON text (as `path.key`), or [] when none do. */
export function duplicateKeys(json: string): string[] {
  const dupes: string[] = [];
  const stack: Array<{ keys: Set<string> | null; path: string }> = [];
  let i = 0;
  let lastString = '';
  while (i < json.length) {
    const c = json[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      lastString = JSON.parse(json.slice(i, j + 1)) as string;
      i = j + 1;
      // A string followed by ':' inside an object is a key.
      const top = stack[stack.length - 1];
      if (top?.keys && /^\s*:/.test(json.slice(i, i + 8))) {
        if (top.keys.has(lastString)) dupes.push(`${top.path}${lastString}`);
        top.keys.add(lastString);
      }
      continue;
    }
    if (c === '{') stack.push({ keys: new Set(), path: `${stack.length ? `${stack[stack.length - 1]?.path}${lastString}.` : ''}` });
    else if (c === '[') stack.push({ keys: null, path: stack[stack.length - 1]?.path ?? '' });
    else if (c === '}' || c === ']') stack.pop();
    i++;
  }
  return dupes;
}
