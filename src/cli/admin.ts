// `pushinstalld process-servers …` and `pushinstalld host-keys …`: the daemon's process servers
// (drain/resume) and the pinned SSH host keys and WinRM certificates.
import { Command, Option } from 'commander';
import type { ApiClient, HttpMethod } from '../client/api-client.ts';
import { ApiError } from '../client/api-client.ts';
import type { HostKeyPinRequest, ResponseBody } from '../client/contract.ts';
import { clientOf, examples, out, printJson, show, table } from './context.ts';

type ProcessServer = ResponseBody<'listProcessServers', 200>['processServers'][number];

/** A call the typed client has no method for: its JSON body, or the API's error. */
async function call<T>(client: ApiClient, method: HttpMethod, path: string): Promise<T> {
  const res = await client.raw<T>(method, path);
  if (res.status >= 400) throw new ApiError(method, path, res.status, res.body as object);
  return res.body;
}

function processServerRows(list: ProcessServer[]): string {
  return table(['ID', 'STATE', 'HEARTBEAT', 'WORKERS', 'CONCURRENCY', 'WAITING', 'ACTIVE', 'KEY', 'VERSION'], list.map((p) => [
    p.id, p.drained ? 'DRAINED' : 'taking jobs', `${Math.round(p.heartbeatAgeSec)} s ago`, `${p.workers.filter((w) => w.live).length}/${p.workers.length} live`,
    p.concurrency, p.queue.waiting ?? 0, p.queue.active ?? 0, p.keyAgreement, p.version,
  ]));
}

export function processServersCommand(): Command {
  const ps = new Command('process-servers').description('process servers: workers, queue depth, drain and resume');
  examples(ps.command('list').description('every process server whose workers have reported').option('--json', 'as JSON ({processServers})')
    .action(async (_o: unknown, cmd: Command) => {
      const body = await call<{ processServers: ProcessServer[] }>(clientOf(cmd), 'GET', '/api/v1/process-servers');
      show(cmd, body, () => processServerRows(body.processServers));
    }), ['pushinstalld process-servers list']);
  for (const [action, summary] of [['drain', 'its workers take no new job (running ones finish, queued ones wait)'], ['resume', 'its workers take jobs again']] as const) {
    examples(ps.command(action).description(summary).argument('<id>')
      .action(async (id: string, _o: unknown, cmd: Command) => printJson(await call(clientOf(cmd), 'POST', `/api/v1/process-servers/${encodeURIComponent(id)}/${action}`))),
    [`pushinstalld process-servers ${action} ps-eu1`]);
  }
  return ps;
}

export function hostKeysCommand(): Command {
  const hk = new Command('host-keys').description('pinned SSH host keys and WinRM TLS certificates');
  examples(hk.command('list').description('every pin').option('--json', 'as JSON ({hostKeys})')
    .action(async (_o: unknown, cmd: Command) => {
      const hostKeys = await clientOf(cmd).listHostKeys();
      show(cmd, { hostKeys }, () => table(['ADDRESS', 'PORT', 'KIND', 'KEY TYPE', 'FINGERPRINT'], hostKeys.map((k) => [k.address, k.port, k.kind, k.keyType, k.fingerprint])));
    }), ['pushinstalld host-keys list']);
  examples(hk.command('pin').description('pre-seed a pin, or accept a changed key').argument('<address>').argument('<fingerprint>', 'SHA256:…')
    .option('--port <port>', 'default 22 (ssh) or 5986 (tls)').addOption(new Option('--kind <kind>').choices(['ssh', 'tls']).default('ssh')).option('--key-type <type>', 'e.g. ssh-ed25519')
    .action(async (address: string, fingerprint: string, o: { port?: string; kind: 'ssh' | 'tls'; keyType?: string }, cmd: Command) => {
      const pin: HostKeyPinRequest = { address, fingerprint, port: Number(o.port ?? (o.kind === 'tls' ? 5986 : 22)), kind: o.kind };
      printJson(await clientOf(cmd).pinHostKey(o.keyType ? { ...pin, keyType: o.keyType } : pin));
    }), ['pushinstalld host-keys pin 10.0.0.42 SHA256:<43 chars> --port 22']);
  examples(hk.command('forget').description('forget the SSH and TLS pins of address:port (the next tofu push pins again)').argument('<address>').option('--port <port>', 'default 22')
    .action(async (address: string, o: { port?: string }, cmd: Command) => {
      await clientOf(cmd).forgetHostKey(address, Number(o.port ?? 22));
      out('forgotten');
    }), ['pushinstalld host-keys forget 10.0.0.42 --port 22']);
  return hk;
}
