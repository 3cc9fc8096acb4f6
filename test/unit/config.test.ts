// The one configuration object: defaults from api.md, .env under the environment, and a clear error
// naming the variable for every bad value.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';

const dir = () => mkdtempSync(path.join(tmpdir(), 'pi-config-'));

describe('configuration', () => {
  it('defaults are those of api.md', () => {
    const cwd = dir();
    const c = loadConfig({}, cwd);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.deepEqual(c.roles, ['api', 'worker']);
    assert.equal(c.redisUrl, undefined);
    assert.equal(c.dataDir, path.join(cwd, 'data'));
    assert.equal(c.repositoryDir, path.join(cwd, 'repository'));
    assert.equal(c.processServerId, 'cs');
    assert.equal(c.vaultKeyFile, path.join(cwd, 'data', 'vault.key'));
    assert.equal(c.apiTokensFile, path.join(cwd, 'data', 'tokens.json'));
    assert.equal(c.workerConcurrency, 16);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.hostKeyPolicy, 'tofu');
    assert.equal(c.accountLockoutThreshold, 3);
    assert.equal(c.jobRetentionDays, 30);
  });

  it('REDIS_SENTINELS with REDIS_SENTINEL_NAME and the passwords', () => {
    const c = loadConfig({ REDIS_SENTINELS: 's1:26379, 10.0.0.2:26380', REDIS_SENTINEL_NAME: 'pimaster', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_PASSWORD: 'rp' }, dir());
    assert.deepEqual(c.redisSentinel, { sentinels: [{ host: 's1', port: 26379 }, { host: '10.0.0.2', port: 26380 }], name: 'pimaster', sentinelPassword: 'sp', password: 'rp' });
    assert.equal(loadConfig({}, dir()).redisSentinel, undefined);
  });

  it('JOB_RETENTION_DAYS takes decimals, and 0 keeps jobs forever', () => {
    assert.equal(loadConfig({ JOB_RETENTION_DAYS: '0.5' }, dir()).jobRetentionDays, 0.5);
    assert.equal(loadConfig({ JOB_RETENTION_DAYS: '0' }, dir()).jobRetentionDays, 0);
  });

  it('reads .env, and the environment wins over it', () => {
    const cwd = dir();
    writeFileSync(path.join(cwd, '.env'), '# comment\nPORT=9090\nPROCESS_SERVER_ID="ps-eu1"\nexport LOG_LEVEL=debug\nCS_VERSION=9.30.0.0\n');
    const c = loadConfig({ LOG_LEVEL: 'warn' }, cwd);
    assert.equal(c.port, 9090);
    assert.equal(c.processServerId, 'ps-eu1');
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.csVersion, '9.30.0.0');
  });

  const bad: Array<[Record<string, string>, string, RegExp]> = [
    [{ PORT: 'eighty' }, 'PORT', /integer/],
    [{ PORT: '70000' }, 'PORT', /between/],
    [{ ROLES: 'api,scheduler' }, 'ROLES', /unknown role "scheduler"/],
    [{ ROLES: ' , ' }, 'ROLES', /at least one/],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL', /redis:\/\//],
    [{ PROCESS_SERVER_ID: 'ps 2' }, 'PROCESS_SERVER_ID', /letters, digits/],
    [{ CS_VERSION: 'latest' }, 'CS_VERSION', /dotted version/],
    [{ CS_ENDPOINT: '10.0.0.4; rm -rf /' }, 'CS_ENDPOINT', /IPv4 or IPv6 address/],
    // Documented as the configuration server's IP address: a host name is refused.
    [{ CS_ENDPOINT: 'cs.contoso.local' }, 'CS_ENDPOINT', /IPv4 or IPv6 address, got "cs\.contoso\.local"/],
    [{ CS_ENDPOINT: '10.0.0.256' }, 'CS_ENDPOINT', /IPv4 or IPv6 address/],
    [{ PROCESS_SERVER_VERSION: '9.x' }, 'PROCESS_SERVER_VERSION', /dotted version/],
    [{ LOG_LEVEL: 'chatty' }, 'LOG_LEVEL', /one of/],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT', /must be pretty or json, got "xml"/],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY', /between 1 and/],
    [{ SSH_HOST_KEY_POLICY: 'yolo' }, 'SSH_HOST_KEY_POLICY', /tofu, strict or off/],
    [{ JOB_RETRIES: '-1' }, 'JOB_RETRIES', /integer/],
    [{ REDIS_SENTINELS: '10.0.0.1' }, 'REDIS_SENTINELS', /host:port/],
    [{ REDIS_SENTINELS: '10.0.0.1:99999', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS', /host:port/],
    [{ REDIS_SENTINELS: '10.0.0.1:26379' }, 'REDIS_SENTINEL_NAME', /must be set with REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis://r:6379' }, 'REDIS_SENTINELS', /cannot be combined with REDIS_URL/],
    [{ JOB_RETENTION_DAYS: 'a month' }, 'JOB_RETENTION_DAYS', /number of days/],
    [{ JOB_RETENTION_DAYS: '-1' }, 'JOB_RETENTION_DAYS', /number of days/],
    [{ METRICS_PORT: '9464' }, 'METRICS_PORT', /without the api role/],
    [{ METRICS_PORT: 'ninety', ROLES: 'worker' }, 'METRICS_PORT', /integer/],
    [{ METRICS_PORT: '70000', ROLES: 'worker' }, 'METRICS_PORT', /between 0 and 65535/],
  ];
  for (const [env, variable, problem] of bad) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(() => loadConfig(env, dir()), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.variable, variable);
        assert.match(e.message, new RegExp(`^invalid configuration: ${variable} `));
        assert.match(e.message, problem);
        return true;
      });
    });
  }

  it('METRICS_PORT: unset means no listener; a worker-only process takes a port', () => {
    assert.equal(loadConfig({ ROLES: 'worker' }, dir()).metricsPort, null);
    assert.equal(loadConfig({ ROLES: 'worker', METRICS_PORT: '9464' }, dir()).metricsPort, 9464);
  });

  it('CS_ENDPOINT takes an IPv4 or IPv6 address; PROCESS_SERVER_VERSION is optional', () => {
    assert.equal(loadConfig({ CS_ENDPOINT: 'fd00::4' }, dir()).csEndpoint, 'fd00::4');
    assert.equal(loadConfig({ CS_ENDPOINT: '10.0.0.4' }, dir()).processServerVersion, undefined);
    assert.equal(loadConfig({ PROCESS_SERVER_VERSION: '9.29.0.0' }, dir()).processServerVersion, '9.29.0.0');
  });

  it('a malformed .env line names the file and line', () => {
    const cwd = dir();
    writeFileSync(path.join(cwd, '.env'), 'PORT=1\nthis is not a setting\n');
    assert.throws(() => loadConfig({}, cwd), /\.env:2 is not a KEY=value line/);
  });
});
