import pino, { type DestinationStream, type Logger } from 'pino';
import { escapeUnsafeJson } from './safe-text.js';

export interface LoggerOptions {
  level: string;
  /** 'stdout', 'stderr' or a file path. */
  destination: string;
  /** More pino redact paths (`logging.redact`), on top of REDACT_PATHS. */
  redact?: readonly string[];
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
  'req.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
  '*.authorization',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.password',
  '*.secret',
  '*.clientSecret',
  '*.key',
];

/** Bytes buffered before a write: one syscall per ~20 access lines instead of one per line. */
const BUFFER_BYTES = 4096;
/** A quiet gateway still gets its lines out within this time. */
const FLUSH_EVERY_MS = 200;

function openDestination(destination: string): DestinationStream {
  const fd = destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : undefined;
  const dest = pino.destination(
    fd === undefined ? { dest: destination, sync: false, mkdir: true, minLength: BUFFER_BYTES } : { fd, sync: false, minLength: BUFFER_BYTES },
  );
  setInterval(() => dest.flush(), FLUSH_EVERY_MS).unref();
  // Buffered lines must not be lost on a normal exit.
  process.once('exit', () => {
    try {
      dest.flushSync();
    } catch {
      // nothing left to do at exit
    }
  });
  return dest;
}

let cachedMs = 0;
let cachedIso = '';

/**
 * The current time as ISO 8601. Formatting a Date on every line is measurable at thousands of
 * lines per second, and most lines share their millisecond, so the formatted value is reused.
 */
export function isoNow(): string {
  const now = Date.now();
  if (now !== cachedMs) {
    cachedMs = now;
    cachedIso = new Date(now).toISOString();
  }
  return cachedIso;
}

function isoTimeCached(): string {
  return `,"time":"${isoNow()}"`;
}

function baseOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: { pid: process.pid },
    timestamp: isoTimeCached,
    formatters: { level: (label) => ({ level: label }) },
    // Every line, whatever a policy put in it, leaves without raw DEL/C1/U+2028 (safe-text.ts).
    hooks: { streamWrite: escapeUnsafeJson },
  };
}

export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const dest = destination ?? openDestination(options.destination);
  return pino({ ...baseOptions(options.level), redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' } }, dest);
}

/** The general logger and the destination access lines are written to (see access-log.ts). */
export interface Loggers {
  readonly logger: Logger;
  readonly destination: DestinationStream;
}

export function createLoggers(options: LoggerOptions): Loggers {
  const destination = openDestination(options.destination);
  return { logger: createLogger(options, destination), destination };
}

/** A logger that drops everything, for tests and benchmarks of the logger-free path. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * `logging.level` takes effect on reload: pino children without a level of their own (policies',
 * workers') follow their parent. The destination stays: reopening it under load could lose lines.
 */
export function applyLogLevel(logger: Logger, level: string): void {
  if (logger.level === level) return;
  // Logged before the change, so a quieter level does not swallow the line announcing it.
  logger.info({ from: logger.level, to: level }, 'log level changed');
  logger.level = level;
}
