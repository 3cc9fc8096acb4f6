// Secrets (account passwords) come from a no-echo prompt on a terminal, or from standard input when
// asked with --password-stdin; never from the command line, where `ps` and shell history would keep them.
import { UsageError } from './context.ts';

/** All of standard input, without its final line break. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads a line from the terminal in raw mode, echoing nothing; Ctrl-C aborts (exit 130). */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Raw mode (no echo) before the prompt shows: what is typed as soon as it shows must not be echoed.
  stdin.setRawMode(true);
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err); else resolve(value);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') { done(); process.exit(130); }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** The password: from stdin with --password-stdin, else a prompt (asked twice) when stdin is a terminal. */
export async function readPassword(fromStdin: boolean | undefined): Promise<string> {
  let password: string;
  if (fromStdin) password = await readStdin();
  else if (process.stdin.isTTY) {
    password = await promptHidden('Password: ');
    if (password !== await promptHidden('Password again: ')) throw new UsageError('the two passwords differ');
  } else throw new UsageError('standard input is not a terminal: pass the password on standard input with --password-stdin');
  if (password === '') throw new UsageError('empty password');
  return password;
}
