/**
 * The single redaction layer: every secret value the process has seen (run-as passwords, private keys,
 * passphrases) is registered here, and every log line, job log line, error message and command output
 * attached to a job passes through `redact` before it leaves the process or reaches Redis.
 * Besides the raw value it masks the encodings a secret typically leaks in: base64, base64url,
 * URL-encoding, and JSON string escaping. A secret may hold anything (lone UTF-16 surrogates, NUL,
 * megabytes): neither `add` nor `redact` throws on any string.
 */
export const MASK = '***';

const MIN_SECRET_LENGTH = 3;
/** V8 refuses a regular expression of about 64K characters ("too large"): forms are packed into several below that. */
const MAX_PATTERN_LENGTH = 16_384;

type Replacer = (text: string) => string;

export class Redactor {
  /** Each form masked, with how many holders keep it (Infinity: for the life of the process). */
  private readonly forms = new Map<string, number>();
  private replacers: Replacer[] | null = null;

  /** Masks a secret for the life of the process (e.g. the configuration server's passphrase). */
  add(secret: string | undefined | null): void {
    this.count(formsOf(secret), Infinity);
  }

  /**
   * Masks secrets until the returned release is called (e.g. the run-as account's, while a job that
   * decrypted them runs; the caller releases once nothing it produced can carry them any more). A form
   * stays masked while any holder, or `add`, keeps it.
   */
  hold(...secrets: Array<string | undefined | null>): () => void {
    const forms = secrets.flatMap(formsOf);
    this.count(forms, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.count(forms, -1);
    };
  }

  /** How many forms are masked now (tests, memory checks). */
  get size(): number {
    return this.forms.size;
  }

  private count(forms: readonly string[], by: number): void {
    const before = this.forms.size;
    for (const form of forms) {
      const n = (this.forms.get(form) ?? 0) + by;
      if (n > 0) this.forms.set(form, n);
      else this.forms.delete(form);
    }
    if (this.forms.size !== before) this.replacers = null;
  }

  redact(text: string): string {
    if (this.forms.size === 0 || text.length === 0) return text;
    this.replacers ??= replacersFor([...this.forms.keys()]);
    return this.replacers.reduce((out, replace) => replace(out), text);
  }

  /** Redacts every string (keys included) inside a JSON-like value (for error details). */
  redactValue<T>(value: T): T {
    if (this.forms.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.redact(k), walk(x)]));
      return v;
    };
    // The JSON round trip keeps what the old whole-text redaction kept (dates as strings, no undefined).
    return walk(JSON.parse(JSON.stringify(value) ?? 'null')) as T;
  }
}

/**
 * Longest forms first (a secret is masked whole before a shorter form inside it), packed into regular
 * expressions under V8's size limit; a form too long for any pattern is replaced as a plain string.
 */
function replacersFor(forms: string[]): Replacer[] {
  const out: Replacer[] = [];
  let batch: string[] = [];
  let size = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const pattern = new RegExp(batch.join('|'), 'g');
    out.push((text) => text.replace(pattern, MASK));
    batch = [];
    size = 0;
  };
  for (const form of forms.sort((a, b) => b.length - a.length)) {
    const escaped = escapeRegExp(form);
    if (escaped.length > MAX_PATTERN_LENGTH) {
      out.push((text) => text.split(form).join(MASK));
      continue;
    }
    if (size + escaped.length + 1 > MAX_PATTERN_LENGTH) flush();
    batch.push(escaped);
    size += escaped.length + 1;
  }
  flush();
  return out;
}

/** What a secret is masked as: itself, its encodings and (multi-line secrets) each substantial line. */
function formsOf(secret: string | undefined | null): string[] {
  if (secret === undefined || secret === null || secret.length < MIN_SECRET_LENGTH) return [];
  const forms = encodings(secret).filter((form) => form.length >= MIN_SECRET_LENGTH);
  // Multi-line secrets (private keys): mask each substantial line too, so a key echoed line by line is caught.
  if (secret.includes('\n')) {
    for (const line of secret.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= 16 && !/^-----(BEGIN|END) /.test(trimmed)) forms.push(trimmed);
    }
  }
  return forms;
}

function encodings(secret: string): string[] {
  const buf = Buffer.from(secret, 'utf8');
  // What the secret becomes once encoded as UTF-8 (a lone surrogate turns into U+FFFD): what a guest
  // echoes back, and the only thing URL encoding accepts (encodeURIComponent throws on a lone surrogate).
  const wellFormed = buf.toString('utf8');
  const b64 = buf.toString('base64');
  const json = JSON.stringify(secret).slice(1, -1);
  const url = encodeURIComponent(wellFormed);
  return [secret, wellFormed, b64, b64.replace(/=+$/, ''), buf.toString('base64url'), url, url.replace(/%20/g, '+'), json, JSON.stringify(json).slice(1, -1)];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The process-wide redactor (secrets are process-wide: any log line may carry any of them). */
export const redactor = new Redactor();
