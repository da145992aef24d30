import pino, { type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** 'stdout', 'stderr' or a file path. */
  destination: string;
}

/**
 * Paths pino redacts wherever they appear in a log object: credentials never reach the log even
 * when a policy logs a request by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.key',
];

export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const dest =
    destination ??
    (options.destination === 'stdout'
      ? pino.destination({ fd: 1, sync: false })
      : options.destination === 'stderr'
        ? pino.destination({ fd: 2, sync: false })
        : pino.destination({ dest: options.destination, sync: false, mkdir: true }));
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/** A logger that drops everything, for tests and benchmarks of the logger-free path. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
