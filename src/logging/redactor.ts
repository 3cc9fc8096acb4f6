/**
 * The single redaction layer: every secret value the process has seen (run-as passwords, private keys,
 * passphrases) is registered here, and every log line, job log line, error message and command output
 * attached to a job passes through `redact` before it leaves the process or reaches Redis.
 * Besides the raw value it masks the encodings a secret typically leaks in: base64, base64url,
 * URL-encoding, and JSON string escaping.
 */
export const MASK = '***';

const MIN_SECRET_LENGTH = 3;

export class Redactor {
  private readonly forms = new Set<string>();
  private pattern: RegExp | null = null;

  add(secret: string | undefined | null): void {
    if (secret === undefined || secret === null || secret.length < MIN_SECRET_LENGTH) return;
    const before = this.forms.size;
    for (const form of encodings(secret)) {
      if (form.length >= MIN_SECRET_LENGTH) this.forms.add(form);
    }
    // Multi-line secrets (private keys): mask each substantial line too, so a key echoed line by line is caught.
    if (secret.includes('\n')) {
      for (const line of secret.split(/\r?\n/)) {
        const trimmed = line.trim();
        if (trimmed.length >= 16 && !/^-----(BEGIN|END) /.test(trimmed)) this.forms.add(trimmed);
      }
    }
    if (this.forms.size !== before) this.pattern = null;
  }

  redact(text: string): string {
    if (this.forms.size === 0 || text.length === 0) return text;
    if (this.pattern === null) {
      const sorted = [...this.forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(sorted.join('|'), 'g');
    }
    return text.replace(this.pattern, MASK);
  }

  /** Redacts every string inside a JSON-like value (for error details). */
  redactValue<T>(value: T): T {
    if (this.forms.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }
}

function encodings(secret: string): string[] {
  const buf = Buffer.from(secret, 'utf8');
  const b64 = buf.toString('base64');
  const json = JSON.stringify(secret).slice(1, -1);
  return [
    secret,
    b64,
    b64.replace(/=+$/, ''),
    buf.toString('base64url'),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    json,
    JSON.stringify(json).slice(1, -1),
  ];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The process-wide redactor (secrets are process-wide: any log line may carry any of them). */
export const redactor = new Redactor();
