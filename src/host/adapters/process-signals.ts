import type {Signals} from '../../core/termination.js';

/** SIGINT, SIGTERM and SIGHUP: cleanup, then exit 128+signal as a shell reports it. */
export const processSignals: Signals = {
  onTermination(cleanup) {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    let running = false;
    const handler = (signal: NodeJS.Signals) => {
      if (running) return;
      running = true;
      const code = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
      process.stderr.write(`\nsandman: ${signal} received, undoing what was started...\n`);
      cleanup()
        .catch((error: unknown) =>
          process.stderr.write(`sandman: cleanup failed: ${(error as Error).message}\n`),
        )
        .finally(() => process.exit(code));
    };
    for (const signal of signals) process.on(signal, handler);
    return () => {
      for (const signal of signals) process.off(signal, handler);
    };
  },
};
