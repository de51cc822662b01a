/**
 * The logger contract: a subset of pino's, so a pino logger (or a LiveKit agent's) can be passed as is.
 */

/** One log method: pino's `(obj, msg)` form (the recorder always passes an object first). */
export type LogFn = (obj: Record<string, unknown> | string, msg?: string) => void;

/** A pino-compatible logger. `child` is used when present to bind the recording id. */
export interface RecorderLogger {
  /** Debug detail (per-track decisions). */
  debug: LogFn;
  /** Lifecycle: started, ended, mode. */
  info: LogFn;
  /** Degraded operation: drops, gaps, health warnings. */
  warn: LogFn;
  /** A recording failed. */
  error: LogFn;
  /** Returns a logger that adds `bindings` to every line (pino `child`). */
  child?(bindings: Record<string, unknown>): RecorderLogger;
}

const noop = (): void => {};

/** A logger that discards everything (the default). */
export const silentLogger: RecorderLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** `logger.child(bindings)` when the logger has it, else the logger itself. @internal */
export function childLogger(logger: RecorderLogger, bindings: Record<string, unknown>): RecorderLogger {
  return typeof logger.child === 'function' ? logger.child(bindings) : logger;
}
