import { pino, type Logger } from 'pino';
import { redactor } from './redactor.ts';

export type { Logger };

/**
 * A pino logger whose every serialized line passes through the redactor before it is written, so no
 * secret reaches the log whatever field or message carries it.
 */
export function createLogger(level: string, sink: { write(line: string): unknown } = process.stdout): Logger {
  const stream = { write: (line: string) => sink.write(redactor.redact(line)) };
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['password', 'passphrase', 'privateKey', '*.password', '*.passphrase', '*.privateKey', 'req.headers.authorization'], censor: '***' },
    },
    stream,
  );
}
