/**
 * Lazy access to `@livekit/rtc-node` and `@trackrec/core` (which loads it): only `record` and `demo`
 * need them, so `probe`, `repair` and `serve` start fast and work without the native peer dependency.
 */

type Rtc = typeof import('@livekit/rtc-node');
type Core = typeof import('@trackrec/core');

let rtc: Rtc | null = null;

/** Loads `@livekit/rtc-node`; a missing peer dependency becomes an error that says how to install it. */
export async function loadRtc(): Promise<Rtc> {
  if (rtc !== null) return rtc;
  // rtc-node's pino logger writes debug lines to stdout unless NODE_ENV is `production` when it
  // loads; they would mix into the command's output (and break --json).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    rtc = await import('@livekit/rtc-node');
  } catch (err) {
    throw new Error(
      `@livekit/rtc-node could not be loaded (npm install @livekit/rtc-node): ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  return rtc;
}

/** Loads `@trackrec/core` (and with it `@livekit/rtc-node`). */
export async function loadCore(): Promise<Core> {
  await loadRtc();
  return import('@trackrec/core');
}

/**
 * Releases rtc-node's native side if it was loaded: its FFI client keeps the process alive otherwise.
 * For the executable's exit only (rtc-node cannot be used again in this process afterwards).
 */
export async function disposeRtc(): Promise<void> {
  if (rtc !== null) await rtc.dispose();
}
