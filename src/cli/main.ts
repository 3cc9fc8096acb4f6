// pushinstalld's operator CLI. Local commands work on this machine's files (tokens, vault key); the
// others call the REST API (PUSHINSTALLD_URL, PUSHINSTALLD_TOKEN) through the typed client, like any
// other client.
//
//   npm run cli -- tokens add --name portal-eu1 --role portal     (prints the new token once)
//   npm run cli -- tokens list | tokens revoke --name portal-eu1
//   npm run cli -- vault rotate-key                                (re-encrypts every run-as account)
//   npm run cli -- jobs list [--state Failed] | jobs get <id> | jobs log <id> | jobs watch <id>
//   npm run cli -- jobs cancel <id> | jobs restart <id>
//   npm run cli -- process-servers list | process-servers drain <id> | process-servers resume <id>
//   npm run cli -- host-keys list | host-keys pin <address> <SHA256:...> [--port 22] [--kind ssh|tls] [--key-type <type>]
//   npm run cli -- host-keys forget <address> [--port 22]          (forgets SSH and TLS pins of address:port)
//   npm run cli -- repository manual-install --os-tag <tag> | --os-name <name>   (the installer and the documented lines)
//   npm run cli -- repository download <file> [--out <path>]                      (checks the SHA-256 against the ETag)
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Redis } from 'ioredis';
import { rotateVaultKey } from '../accounts/rotate-key.ts';
import { TokenStore, TOKEN_ROLES, type TokenRole } from '../api/tokens.ts';
import type { HostPin as HostKeyView, JobFilter } from '../client/contract.ts';
import { ApiClient, ApiError } from '../client/api-client.ts';
import { loadConfig, type Config } from '../config.ts';
import { embeddedRedisUrlFile } from '../redis/embedded.ts';

interface Args { positional: string[]; opts: Record<string, string> }
type Command = (args: Args) => Promise<void> | void;

function parseArgs(args: string[]): Args {
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

const print = (v: unknown): void => { process.stdout.write(typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n'); };

function client(): ApiClient {
  const token = process.env.PUSHINSTALLD_TOKEN ?? fail('set PUSHINSTALLD_TOKEN (and PUSHINSTALLD_URL, default http://127.0.0.1:8080)');
  return new ApiClient({ baseUrl: process.env.PUSHINSTALLD_URL ?? 'http://127.0.0.1:8080', token });
}

/** The one positional argument a command needs, or its usage. */
const arg = (a: Args, i: number, usage: string): string => a.positional[i] ?? fail(usage);

/** Streams an offered installer to a file; the SHA-256 of the bytes must equal the ETag, else the file is removed. */
async function download(file: string, out: string): Promise<void> {
  const base = process.env.PUSHINSTALLD_URL ?? 'http://127.0.0.1:8080';
  const token = process.env.PUSHINSTALLD_TOKEN ?? fail('set PUSHINSTALLD_TOKEN (and PUSHINSTALLD_URL, default http://127.0.0.1:8080)');
  const res = await fetch(`${base}/api/v1/repository/installers/${encodeURIComponent(file)}/content`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok || !res.body) fail(`download ${file}: ${res.status} ${await res.text()}`);
  const hash = createHash('sha256');
  const partial = `${out}.part`;
  const tee = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk); } });
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), tee, createWriteStream(partial));
  const sha = hash.digest('hex');
  if (res.headers.get('etag') !== `"${sha}"`) {
    rmSync(partial, { force: true });
    fail(`download ${file}: SHA-256 ${sha} does not match the repository's ${res.headers.get('etag')}`);
  }
  renameSync(partial, out);
  print(`${out}  sha256 ${sha}\n`);
}


function localCommands(config: Config): Record<string, Command> {
  const tokens = () => new TokenStore(config.apiTokensFile);
  return {
    'tokens add': ({ opts }) => {
      const role = opts.role as TokenRole;
      if (!opts.name || !TOKEN_ROLES.includes(role)) fail(`usage: tokens add --name <name> --role ${TOKEN_ROLES.join('|')}`);
      const token = tokens().add(opts.name, role);
      process.stderr.write(`token "${opts.name}" (${role}) added to ${config.apiTokensFile}; it is shown only now:\n`);
      print(`${token}\n`);
    },
    'tokens list': () => print(tokens().list().map(({ name, role, createdAt }) => ({ name, role, createdAt }))),
    'tokens revoke': ({ opts }) => {
      if (!opts.name) fail('usage: tokens revoke --name <name>');
      if (!tokens().revoke(opts.name)) fail(`no token named ${opts.name}`);
      print(`revoked ${opts.name}\n`);
    },
    'vault rotate-key': () => rotateKey(config),
  };
}

async function rotateKey(config: Config): Promise<void> {
  // The daemon's Redis: REDIS_URL, or the embedded one the running daemon advertises in DATA_DIR.
  let redisUrl = config.redisUrl;
  if (!redisUrl && existsSync(embeddedRedisUrlFile(config.dataDir))) redisUrl = readFileSync(embeddedRedisUrlFile(config.dataDir), 'utf8').trim();
  if (!redisUrl) fail('vault rotate-key needs the daemon\'s Redis: set REDIS_URL, or run it while the daemon (with its embedded Redis) is running with the same DATA_DIR');
  const redis = new Redis(redisUrl);
  try {
    print(await rotateVaultKey(redis, config.vaultKeyFile, (l) => process.stderr.write(`${l}\n`)));
  } finally {
    redis.disconnect();
  }
}

const LIST_FILTERS = ['state', 'type', 'machineId', 'processServerId', 'since', 'limit', 'cursor'];

const jobCommands: Record<string, Command> = {
  'jobs list': async ({ opts }) => {
    const filter = Object.fromEntries(Object.entries(opts).filter(([k]) => LIST_FILTERS.includes(k))) as unknown as JobFilter;
    for (const j of (await client().listJobs(filter)).jobs) {
      print(`${j.id}  ${j.state.padEnd(10)} ${j.type.padEnd(20)} ${j.machine.machineId} (${j.machine.address})${j.errors[0] ? `  error ${j.errors[0].code}` : ''}\n`);
    }
  },
  'jobs get': async (a) => print(await client().getJob(arg(a, 0, 'jobs get <id>'))),
  'jobs log': async (a) => print(await client().jobLog(arg(a, 0, 'jobs log <id>'))),
  'jobs cancel': async (a) => print(await client().cancelJob(arg(a, 0, 'jobs cancel <id>'))),
  'jobs restart': async (a) => print({ jobs: [await client().restartJob(arg(a, 0, 'jobs restart <id>'))] }),
  'jobs watch': async (a) => {
    for await (const ev of client().watchJob(arg(a, 0, 'jobs watch <id>'))) {
      print(`${ev.at}  ${ev.kind === 'task' ? `task ${ev.task}` : 'job'}: ${ev.state}\n`);
    }
  },
};

const PIN_USAGE = 'host-keys pin <address> <SHA256:...> [--port 22] [--kind ssh|tls] [--key-type <type>]';

const hostKeyCommands: Record<string, Command> = {
  'host-keys list': async () => print({ hostKeys: await client().listHostKeys() }),
  'host-keys pin': async (a) => {
    const kind = (a.opts.kind ?? 'ssh') as HostKeyView['kind'];
    if (kind !== 'ssh' && kind !== 'tls') fail(`usage: ${PIN_USAGE}`);
    const pin = { address: arg(a, 0, PIN_USAGE), fingerprint: arg(a, 1, PIN_USAGE), port: Number(a.opts.port ?? (kind === 'tls' ? 5986 : 22)), kind };
    print(await client().pinHostKey(a.opts['key-type'] ? { ...pin, keyType: a.opts['key-type'] } : pin));
  },
  'host-keys forget': async (a) => {
    await client().forgetHostKey(arg(a, 0, 'host-keys forget <address> [--port 22]'), Number(a.opts.port ?? 22));
    print('forgotten\n');
  },
};

/** A call the typed client has no method for yet: its JSON body, or the API's error (exit 2). */
async function rawCall(method: 'GET' | 'POST', path: string): Promise<unknown> {
  const res = await client().raw(method, path);
  if (res.status >= 400) throw new ApiError(method, path, res.status, res.text);
  return res.body;
}

const processServerCommands: Record<string, Command> = {
  'process-servers list': async () => print(await rawCall('GET', '/api/v1/process-servers')),
  'process-servers drain': async (a) => print(await rawCall('POST', `/api/v1/process-servers/${encodeURIComponent(arg(a, 0, 'process-servers drain <id>'))}/drain`)),
  'process-servers resume': async (a) => print(await rawCall('POST', `/api/v1/process-servers/${encodeURIComponent(arg(a, 0, 'process-servers resume <id>'))}/resume`)),
};

const MANUAL_USAGE = 'repository manual-install --os-tag <tag> | --os-name <name>';

const repositoryCommands: Record<string, Command> = {
  'repository manual-install': async ({ opts }) => {
    const q = opts['os-tag'] ? `osTag=${encodeURIComponent(opts['os-tag'])}` : opts['os-name'] ? `osName=${encodeURIComponent(opts['os-name'])}` : fail(MANUAL_USAGE);
    print(await rawCall('GET', `/api/v1/repository/manual-install?${q}`));
  },
  'repository download': async (a) => {
    const file = arg(a, 0, 'repository download <file> [--out <path>]');
    await download(file, a.opts.out ?? file);
  },
};

async function main(): Promise<void> {
  const [group, command, ...rest] = process.argv.slice(2);
  const commands = { ...localCommands(loadConfig()), ...jobCommands, ...hostKeyCommands, ...repositoryCommands, ...processServerCommands };
  const run = commands[`${group} ${command}`];
  if (!run) fail('commands: tokens add|list|revoke, vault rotate-key, jobs list|get|log|watch|cancel|restart, host-keys list|pin|forget, repository manual-install|download, process-servers list|drain|resume');
  await run(parseArgs(rest));
}

main().catch((e: Error) => fail(e instanceof ApiError ? `${e.method} ${e.path}: ${e.status} ${e.message}` : e.message));
