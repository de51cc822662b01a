/** Where the encoders report notable decisions (hardware fallback, ignored codec options). */
export interface EncoderLogger {
  /** Something worth knowing that needs no action (e.g. the encoder that was picked). */
  info(message: string): void;
  /** A degraded but working configuration (e.g. hardware encoding unavailable, software fallback). */
  warn(message: string): void;
}

/** The default logger: `console`, prefixed with the package name. */
export const consoleLogger: EncoderLogger = {
  info: (message) => console.info(`[@trackrec/encoder] ${message}`),
  warn: (message) => console.warn(`[@trackrec/encoder] ${message}`),
};

/** A logger that discards everything. */
export const silentLogger: EncoderLogger = { info: () => {}, warn: () => {} };
