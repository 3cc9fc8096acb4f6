// A small RFC 4180 reader for inventories: comma-separated, fields optionally in double quotes (a quote
// inside doubled), quoted fields may hold commas and line breaks, CRLF or LF line ends. Each record
// keeps the line it starts on, so a bad row is reported where the operator sees it in an editor.

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(readonly line: number, message: string) { super(`line ${line}: ${message}`); }
}

/** The records of a CSV text; blank lines are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const src = text.replace(/^\uFEFF/, '');
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      const field = readField(src, i, line);
      fields.push(field.value);
      i = field.end;
      line = field.line;
      if (src[i] === ',') { i++; continue; }
      if (src[i] === '\r' && src[i + 1] === '\n') i += 2;
      else if (src[i] === '\n' || src[i] === '\r') i++;
      line++;
      break;
    }
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: start, fields });
  }
  return records;
}

/** One field from `i`: its value, where it ends (at a comma, a line end or the end) and the line there. */
function readField(src: string, i: number, line: number): { value: string; end: number; line: number } {
  if (src[i] !== '"') {
    let end = i;
    while (end < src.length && !',\r\n'.includes(src[end] as string)) {
      if (src[end] === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      end++;
    }
    return { value: src.slice(i, end), end, line };
  }
  let value = '';
  let j = i + 1;
  for (;;) {
    if (j >= src.length) throw new CsvSyntaxError(line, 'a quoted field is not closed');
    const c = src[j] as string;
    if (c === '"') {
      if (src[j + 1] === '"') { value += '"'; j += 2; continue; }
      j++;
      break;
    }
    if (c === '\n' || (c === '\r' && src[j + 1] !== '\n')) line++;
    value += c;
    j++;
  }
  if (j < src.length && !',\r\n'.includes(src[j] as string)) throw new CsvSyntaxError(line, 'text after a closing quote');
  return { value, end: j, line };
}
