// Commands on this machine's files, not the API: API tokens (DATA_DIR/tokens.json) and the vault key
// rotation (needs the daemon's Redis). They read the same configuration (.env, DATA_DIR) as the daemon.
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { Redis } from 'ioredis';
import { rotateVaultKey } from '../accounts/rotate-key.ts';
import { TokenStore, TOKEN_ROLES, type TokenRole } from '../api/tokens.ts';
import { loadConfig } from '../config.ts';
import { embeddedRedisUrlFile } from '../redis/embedded.ts';
import { examples, out, show, table, UsageError } from './context.ts';

const tokens = () => new TokenStore(loadConfig().apiTokensFile);

export function tokensCommand(): Command {
  const cmd = new Command('tokens').description("API tokens in this machine's token file (DATA_DIR/tokens.json)");
  examples(cmd.command('add').description('add a token; it is printed once, on stdout').requiredOption('--name <name>')
    .addOption(new Option('--role <role>').choices(TOKEN_ROLES).makeOptionMandatory())
    .action((o: { name: string; role: TokenRole }) => {
      const file = loadConfig().apiTokensFile;
      const token = tokens().add(o.name, o.role);
      process.stderr.write(`token "${o.name}" (${o.role}) added to ${file}; it is shown only now:\n`);
      out(token);
    }), ['pushinstalld tokens add --name portal-eu1 --role portal']);
  examples(cmd.command('list').description('names, roles and creation times (never the tokens)').option('--json', 'as JSON')
    .action((_o: unknown, c: Command) => {
      const list = tokens().list().map(({ name, role, createdAt }) => ({ name, role, createdAt }));
      show(c, list, () => table(['NAME', 'ROLE', 'CREATED'], list.map((t) => [t.name, t.role, t.createdAt])));
    }), ['pushinstalld tokens list']);
  examples(cmd.command('revoke').description('revoke a token by name').requiredOption('--name <name>')
    .action((o: { name: string }) => {
      if (!tokens().revoke(o.name)) throw new UsageError(`no token named ${o.name}`);
      out(`revoked ${o.name}`);
    }), ['pushinstalld tokens revoke --name portal-eu1']);
  return cmd;
}

async function rotateKey(): Promise<void> {
  const config = loadConfig();
  // The daemon's Redis: REDIS_URL, or the embedded one the running daemon advertises in DATA_DIR.
  let redisUrl = config.redisUrl;
  if (!redisUrl && existsSync(embeddedRedisUrlFile(config.dataDir))) redisUrl = readFileSync(embeddedRedisUrlFile(config.dataDir), 'utf8').trim();
  if (!redisUrl) throw new UsageError('vault rotate-key needs the daemon\'s Redis: set REDIS_URL, or run it while the daemon (with its embedded Redis) is running with the same DATA_DIR');
  const redis = new Redis(redisUrl);
  try {
    out(JSON.stringify(await rotateVaultKey(redis, config.vaultKeyFile, (l) => process.stderr.write(`${l}\n`)), null, 2));
  } finally {
    redis.disconnect();
  }
}

export function vaultCommand(): Command {
  const cmd = new Command('vault').description('the key that encrypts run-as account secrets');
  examples(cmd.command('rotate-key').description('a new vault key; every run-as account is re-encrypted (same .env as the daemon: DATA_DIR / VAULT_KEY_FILE, REDIS_URL)')
    .action(rotateKey), ['pushinstalld vault rotate-key', 'docker compose exec api npx pushinstalld vault rotate-key']);
  return cmd;
}
