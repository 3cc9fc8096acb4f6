import { pino, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat } from '../config.ts';
import { redactor } from './redactor.ts';

export type { Logger };


/**
 * A pino logger whose every serialized line passes through the redactor before it is written, so no
 * secret reaches the log whatever field or message carries it. `pretty` renders each (already redacted)
 * line for a person with pino-pretty, in colour when the sink is a terminal; `json` writes it as is.
 */
export function createLogger(level: string, sink: { write(line: string): unknown; isTTY?: boolean } = process.stdout, format: LogFormat = 'json'): Logger {
  const prettify = format === 'pretty'
    ? prettyFactory({ colorize: sink.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : null;
  const stream = {
    write: (line: string) => {
      const clean = redactor.redact(line);
      sink.write(prettify ? prettify(clean) : clean);
    },
  };
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['password', 'passphrase', 'privateKey', '*.password', '*.passphrase', '*.privateKey', 'req.headers.authorization'], censor: '***' },
    },
    stream,
  );
}
