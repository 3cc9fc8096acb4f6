// pushinstalld's operator CLI. Local commands work on this machine's files (tokens, vault key); the
// others call the REST API (PUSHINSTALLD_URL, PUSHINSTALLD_TOKEN), like any other client.
//
//   npm run cli -- tokens add --name portal-eu1 --role portal     (prints the new token once)
//   npm run cli -- tokens list | tokens revoke --name portal-eu1
//   npm run cli -- vault rotate-key                                (re-encrypts every run-as account)
//   npm run cli -- jobs list [--state Failed] | jobs get <id> | jobs log <id> | jobs watch <id>
//   npm run cli -- jobs cancel <id> | jobs restart <id>
//   npm run cli -- process-servers list | process-servers drain <id> | process-servers resume <id>
//   npm run cli -- host-keys list | host-keys pin <address> <SHA256:...> [--port 22] | host-keys forget <address> [--port 22]
import { TokenStore, TOKEN_ROLES, type TokenRole } from '../api/tokens.ts';
import { rotateVaultKey } from '../accounts/rotate-key.ts';
import { loadConfig } from '../config.ts';
import { Redis } from 'ioredis';
import { existsSync, readFileSync } from 'node:fs';
import { embeddedRedisUrlFile } from '../redis/embedded.ts';

function flags(args: string[]): { positional: string[]; opts: Record<string, string> } {
  const positional: string[] = [];
  const opts: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('--')) { opts[a.slice(2)] = args[i + 1] ?? ''; i++; } else positional.push(a);
  }
  return { positional, opts };
}

function fail(message: string): never {
  process.stderr.write(`pushinstalld-cli: ${message}\n`);
  process.exit(2);
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; text: string; json: unknown }> {
  const base = process.env.PUSHINSTALLD_URL ?? 'http://127.0.0.1:8080';
  const token = process.env.PUSHINSTALLD_TOKEN ?? fail('set PUSHINSTALLD_TOKEN (and PUSHINSTALLD_URL, default http://127.0.0.1:8080)');
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  if (res.status >= 400) fail(`${method} ${route}: ${res.status} ${(json as { message?: string } | null)?.message ?? text}`);
  return { status: res.status, text, json };
}

const print = (v: unknown) => process.stdout.write(typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n');

async function main(): Promise<void> {
  const [group, command, ...rest] = process.argv.slice(2);
  const { positional, opts } = flags(rest);
  const config = loadConfig();
  switch (`${group} ${command}`) {
    case 'tokens add': {
      const role = opts.role as TokenRole;
      if (!opts.name || !TOKEN_ROLES.includes(role)) fail(`usage: tokens add --name <name> --role ${TOKEN_ROLES.join('|')}`);
      const token = new TokenStore(config.apiTokensFile).add(opts.name, role);
      process.stderr.write(`token "${opts.name}" (${role}) added to ${config.apiTokensFile}; it is shown only now:\n`);
      print(`${token}\n`);
      return;
    }
    case 'tokens list':
      print(new TokenStore(config.apiTokensFile).list().map(({ name, role, createdAt }) => ({ name, role, createdAt })));
      return;
    case 'tokens revoke':
      if (!opts.name) fail('usage: tokens revoke --name <name>');
      if (!new TokenStore(config.apiTokensFile).revoke(opts.name)) fail(`no token named ${opts.name}`);
      print(`revoked ${opts.name}\n`);
      return;
    case 'vault rotate-key': {
      // The daemon's Redis: REDIS_URL, or the embedded one the running daemon advertises in DATA_DIR.
      let redisUrl = config.redisUrl;
      if (!redisUrl && existsSync(embeddedRedisUrlFile(config.dataDir))) redisUrl = readFileSync(embeddedRedisUrlFile(config.dataDir), 'utf8').trim();
      if (!redisUrl) fail('vault rotate-key needs the daemon\'s Redis: set REDIS_URL, or run it while the daemon (with its embedded Redis) is running with the same DATA_DIR');
      const redis = new Redis(redisUrl);
      try {
        const res = await rotateVaultKey(redis, config.vaultKeyFile, (l) => process.stderr.write(`${l}\n`));
        print(res);
      } finally {
        redis.disconnect();
      }
      return;
    }
    case 'jobs list': {
      const q = new URLSearchParams(Object.entries(opts).filter(([k]) => ['state', 'type', 'machineId', 'processServerId', 'since', 'limit', 'cursor'].includes(k)));
      const { json } = await api('GET', `/api/v1/jobs?${q}`);
      const jobs = (json as { jobs: Array<{ id: string; state: string; type: string; machine: { machineId: string; address: string }; errors: Array<{ code: number }> }> }).jobs;
      for (const j of jobs) print(`${j.id}  ${j.state.padEnd(10)} ${j.type.padEnd(20)} ${j.machine.machineId} (${j.machine.address})${j.errors[0] ? `  error ${j.errors[0].code}` : ''}\n`);
      return;
    }
    case 'jobs get': print((await api('GET', `/api/v1/jobs/${positional[0] ?? fail('jobs get <id>')}`)).json); return;
    case 'jobs log': print((await api('GET', `/api/v1/jobs/${positional[0] ?? fail('jobs log <id>')}/log`)).text); return;
    case 'jobs cancel': print((await api('POST', `/api/v1/jobs/${positional[0] ?? fail('jobs cancel <id>')}/cancel`)).json); return;
    case 'jobs restart': print((await api('POST', `/api/v1/jobs/${positional[0] ?? fail('jobs restart <id>')}/restart`)).json); return;
    case 'jobs watch': {
      const id = positional[0] ?? fail('jobs watch <id>');
      const base = process.env.PUSHINSTALLD_URL ?? 'http://127.0.0.1:8080';
      const res = await fetch(`${base}/api/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${process.env.PUSHINSTALLD_TOKEN ?? ''}` } });
      if (!res.ok || !res.body) fail(`watch ${id}: ${res.status}`);
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        for (const line of decoder.decode(chunk as Uint8Array).split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const ev = JSON.parse(line.slice(6)) as { at: string; kind: string; state: string; task?: string };
          print(`${ev.at}  ${ev.kind === 'task' ? `task ${ev.task}` : 'job'}: ${ev.state}\n`);
        }
      }
      return;
    }
    case 'process-servers list': print((await api('GET', '/api/v1/process-servers')).json); return;
    case 'process-servers drain':
    case 'process-servers resume': {
      const id = positional[0] ?? fail(`process-servers ${command} <id>`);
      print((await api('POST', `/api/v1/process-servers/${encodeURIComponent(id)}/${command}`)).json);
      return;
    }
    case 'host-keys list': print((await api('GET', '/api/v1/host-keys')).json); return;
    case 'host-keys pin':
      print((await api('POST', '/api/v1/host-keys', { address: positional[0] ?? fail('host-keys pin <address> <SHA256:...>'), fingerprint: positional[1] ?? fail('host-keys pin <address> <SHA256:...>'), port: Number(opts.port ?? 22) })).json);
      return;
    case 'host-keys forget':
      await api('DELETE', `/api/v1/host-keys/${encodeURIComponent(`${positional[0] ?? fail('host-keys forget <address>')}:${opts.port ?? 22}`)}`);
      print('forgotten\n');
      return;
    default:
      fail('commands: tokens add|list|revoke, vault rotate-key, jobs list|get|log|watch|cancel|restart, process-servers list|drain|resume, host-keys list|pin|forget');
  }
}

main().catch((e: Error) => fail(e.message));
