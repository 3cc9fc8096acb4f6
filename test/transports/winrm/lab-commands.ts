// A tiny command interpreter for the WinRM transport tests (the real Windows command semantics are the
// guest simulator's). It records what reached `execute`, so tests can check the exact command line,
// stdin and cancellation the protocol delivered.
import type { Execute, ExecuteContext } from '../../lab/winrm-server.ts';

export interface Seen {
  commandLine: string;
  username: string;
  domain: string;
  stdin: Buffer;
  aborted: boolean;
}

export const NON_ASCII = 'Grüße aus Köln, 日本語, ✓ and 🚀';

export function labCommands(): { execute: Execute; seen: Seen[]; running: () => number } {
  const seen: Seen[] = [];
  let running = 0;
  const execute: Execute = async (commandLine: string, ctx: ExecuteContext) => {
    const entry: Seen = { commandLine, username: ctx.username, domain: ctx.domain, stdin: ctx.stdin, aborted: false };
    seen.push(entry);
    ctx.signal.addEventListener('abort', () => { entry.aborted = true; }, { once: true });
    const [verb = '', ...args] = commandLine.split(' ');
    switch (verb) {
      case 'exit': return { exitCode: Number(args[args.length - 1]), stdout: '', stderr: '' };
      case 'echo': return { exitCode: 0, stdout: `${args.join(' ')}\r\n`, stderr: '' };
      case 'whoami': return { exitCode: 0, stdout: `${ctx.domain}\\${ctx.username}`.toLowerCase(), stderr: '' };
      case 'stdin-echo': return { exitCode: 0, stdout: ctx.stdin.toString('utf8'), stderr: `${ctx.stdin.length} bytes` };
      case 'both': return { exitCode: 2, stdout: `out ${NON_ASCII}`, stderr: `err ${NON_ASCII}` };
      case 'emit': {
        // emit <bytes-ish> <stream>: a long multi-byte text, so chunk boundaries split characters.
        const line = `${NON_ASCII} 0123456789\r\n`;
        const text = line.repeat(Math.ceil(Number(args[0]) / Buffer.byteLength(line)));
        return args[1] === 'stderr' ? { exitCode: 0, stdout: 'done', stderr: text } : { exitCode: 0, stdout: text, stderr: 'done' };
      }
      case 'sleep': {
        running++;
        try {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Number(args[0]));
            ctx.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
          });
        } finally {
          running--;
        }
        return { exitCode: 0, stdout: `slept ${args[0]}`, stderr: '' };
      }
      case 'boom': throw new Error('simulated failure');
      default: return { exitCode: 0, stdout: commandLine, stderr: '' };
    }
  };
  return { execute, seen, running: () => running };
}

/** Polls until `cond` holds (or fails after `ms`). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
