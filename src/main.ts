import { KeyAgreementError } from './accounts/key-agreement.ts';
import { ConfigError, loadConfig } from './config.ts';
import { startDaemon } from './daemon.ts';
import { tuneHeapGrowth } from './heap-tuning.ts';
import { createLogger } from './logging/logger.ts';

async function main(): Promise<void> {
  tuneHeapGrowth();
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
  const logger = createLogger(config.logLevel, process.stdout, config.logFormat);
  const daemon = await startDaemon(config, logger).catch((e: Error) => {
    if (e instanceof ConfigError || e instanceof KeyAgreementError) {
      // A setting to fix (a sentinel that does not answer, a missing vault key): one line, exit 2.
      if (e instanceof ConfigError) logger.fatal({ variable: e.variable }, e.message);
      process.stderr.write(`pushinstalld: ${e.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err: e.message }, 'start-up failed');
    process.stderr.write(`pushinstalld: start-up failed: ${e.message}\n`);
    process.exit(1);
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceSec: config.shutdownGraceSec }, 'shutting down: no new jobs; running jobs finish or are handed back');
    // Whatever hangs (Redis unreachable: nothing can be handed back or closed cleanly), the process exits
    // within the grace; jobs it could not hand back are taken up again when their queue lock expires.
    setTimeout(() => {
      logger.warn({ graceSec: config.shutdownGraceSec }, 'shutdown did not complete within SHUTDOWN_GRACE_SEC (Redis unreachable?): exiting now');
      process.exit(1);
    }, Math.max(0, config.shutdownGraceSec * 1000 - Math.min(1000, config.shutdownGraceSec * 1000 / 6))).unref();
    daemon.stop().then(
      () => { logger.info('stopped'); process.exit(0); },
      (e: Error) => { logger.error({ err: e.message }, 'shutdown failed'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // After the handlers: whoever waits for this line may signal the daemon at once.
  if (daemon.firstAdminToken) {
    // Printed once, never logged: the file keeps only its hash.
    process.stderr.write(
      `\n  First start: created ${config.apiTokensFile} with one admin token (shown only now, keep it safe):\n\n` +
      `    ${daemon.firstAdminToken}\n\n` +
      '  Add more with: npm run cli -- tokens add --name <name> --role admin|portal|operator\n\n',
    );
  }
}

void main();
