// The logging contract of tsnet's libraries: the part of pino's API they use (pino loggers fit as they are),
// so packages log structured context without depending on a logger implementation.
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** A logger whose every record carries `bindings` (e.g. a request or container ID), as pino's child. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Drops everything: the default when a caller passes no logger. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
