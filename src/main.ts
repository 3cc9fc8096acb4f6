import { KeyAgreementError } from './accounts/key-agreement.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startDaemon } from './daemon.ts';
import { createLogger } from './logging/logger.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`pushinstalld: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  const daemon = await startDaemon(config, logger).catch((e: Error) => {
    if (e instanceof KeyAgreementError) {
      // A setting to fix, like a bad variable: one line, exit 2.
      process.stderr.write(`pushinstalld: ${e.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err: e.message }, 'start-up failed');
    process.stderr.write(`pushinstalld: start-up failed: ${e.message}\n`);
    process.exit(1);
  });
  if (daemon.firstAdminToken) {
    // Printed once, never logged: the file keeps only its hash.
    process.stderr.write(
      `\n  First start: created ${config.apiTokensFile} with one admin token (shown only now, keep it safe):\n\n` +
      `    ${daemon.firstAdminToken}\n\n` +
      '  Add more with: npm run cli -- tokens add --name <name> --role admin|portal|operator\n\n',
    );
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new jobs; running jobs finish or are handed back');
    daemon.stop().then(
      () => { logger.info('stopped'); process.exit(0); },
      (e: Error) => { logger.error({ err: e.message }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
